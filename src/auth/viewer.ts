export const ROLES = ['CUSTOMER', 'STAFF', 'ADMIN'] as const;
export type Role = (typeof ROLES)[number];

/** Who is making a request: the account and role from a verified access token, or null for an anonymous visitor. */
export type Viewer = { accountId: string; role: Role } | null;

export const isStaffRole = (role: Role): boolean => role === 'STAFF' || role === 'ADMIN';
