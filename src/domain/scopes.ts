/** Every scope a client can hold; each route demands one. */
export const SCOPES = {
  'users:read': 'Read and look up users',
  'users:write': 'Create, change and delete users',
  'verifications:read': 'Read verifications and wait for their result',
  'verifications:write': 'Start, check and cancel verifications',
  'verifications:code': 'Receive the code in the response when starting with return_code: true',
  'outbox:read': 'Read the development outbox',
  'events:read': "Read the application's event log and follow its stream",
  admin: 'Administer the application',
} as const;

export type Scope = keyof typeof SCOPES;
export const ALL_SCOPES = Object.keys(SCOPES) as Scope[];

export function isScope(value: string): value is Scope {
  return Object.hasOwn(SCOPES, value);
}
