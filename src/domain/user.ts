export type UserStatus = 'active' | 'suspended';

export interface User {
  id: string;
  applicationId: string;
  externalId: string | null;
  email: string | null;
  /** E.164 */
  phone: string | null;
  displayName: string | null;
  locale: string | null;
  status: UserStatus;
  createdAt: number;
  updatedAt: number;
  version: number;
  /** Until when the user's verifications are approved at once (a bypass an admin set), or null. */
  bypassUntil: number | null;
}
