/** Bounds and defaults of a code verification. An application may narrow them, never widen. */
export const CODE_LENGTH = { min: 4, max: 10, default: 6 } as const;
export const TTL_SECONDS = { min: 30, max: 1800, default: 600 } as const;
export const MAX_ATTEMPTS = { min: 1, max: 10, default: 3 } as const;
/** Longest a long-poll may wait, in seconds. */
export const MAX_WAIT_SECONDS = 30;
/** Resends: a new code at most this often, this many times per verification. */
export const RESEND = { cooldownSeconds: 30, maxResends: 3 } as const;
