export const ROLES = ['CUSTOMER', 'STAFF', 'ADMIN'] as const;
export type Role = (typeof ROLES)[number];

/** Who is making a request: a signed-in account in one of its sessions, or null for an anonymous visitor. */
export type Viewer = { accountId: string; role: Role; sessionId: string } | null;

export const isStaffRole = (role: Role): boolean => role === 'STAFF' || role === 'ADMIN';
