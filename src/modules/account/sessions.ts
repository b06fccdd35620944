// Sessions and their tokens: a short-lived access token naming the session, and a single-use refresh token stored
// only as a digest. A refresh token used twice was stolen: the second use ends the whole session.
import type { Account, Prisma, PrismaClient } from '../../generated/prisma/client.js';
import type { AccessClaims, AccessTokens } from '../../auth/tokens.js';
import { digestOf, newOpaqueToken } from '../../auth/secrets.js';
import type { Viewer } from '../../auth/viewer.js';

export interface AuthTokens {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
}

type Db = PrismaClient | Prisma.TransactionClient;

export class Sessions {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly accessTokens: AccessTokens,
    private readonly refreshTtlDays: number,
  ) {}

  /** Starts a session for `account`: the viewer it makes and its first tokens. */
  async start(
    db: Db,
    account: Pick<Account, 'id' | 'role'>,
  ): Promise<{ viewer: NonNullable<Viewer>; tokens: AuthTokens }> {
    const session = await db.session.create({ data: { accountId: account.id } });
    const viewer = { accountId: account.id, role: account.role, sessionId: session.id };
    return { viewer, tokens: await this.issue(db, account, session.id) };
  }

  /** New tokens for a refresh token, which stops working; null when it is not a current token of a live session. */
  async refresh(refreshToken: string): Promise<AuthTokens | null> {
    return this.prisma.$transaction(async (tx) => {
      const token = await tx.refreshToken.findUnique({
        where: { tokenHash: digestOf(refreshToken) },
        include: { session: { include: { account: true } } },
      });
      if (!token || token.session.revokedAt || token.session.account.disabledAt) return null;
      if (token.expiresAt <= new Date()) return null;
      // Claimed with a conditional update, so of two concurrent uses exactly one wins. The other is a reuse, like
      // any second use, and ends the session, whether or not its read saw the first use.
      const claimed = await tx.refreshToken.updateMany({
        where: { id: token.id, usedAt: null },
        data: { usedAt: new Date() },
      });
      if (claimed.count === 0) {
        await this.revoke(tx, { id: token.sessionId });
        return null;
      }
      return this.issue(tx, token.session.account, token.sessionId);
    });
  }

  /** Ends the session of a current refresh token (or all of its account's sessions); returns how many ended. */
  async end(refreshToken: string, everywhere: boolean): Promise<number | null> {
    const token = await this.prisma.refreshToken.findUnique({
      where: { tokenHash: digestOf(refreshToken) },
      include: { session: true },
    });
    if (!token || token.session.revokedAt) return null;
    if (token.usedAt) {
      await this.revoke(this.prisma, { id: token.sessionId });
      return null;
    }
    return this.revoke(this.prisma, everywhere ? { accountId: token.session.accountId } : { id: token.sessionId });
  }

  /** Ends sessions now: their access tokens stop working on the next request. */
  async revoke(db: Db, where: Prisma.SessionWhereInput): Promise<number> {
    const { count } = await db.session.updateMany({
      where: { ...where, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    return count;
  }

  /** The viewer an access token stands for, if its session is live and its account enabled. The role is the
   * account's current one, so role changes apply at once. */
  async viewerFor(claims: AccessClaims): Promise<Viewer> {
    const account = await this.prisma.account.findFirst({
      where: { id: claims.accountId, disabledAt: null, sessions: { some: { id: claims.sessionId, revokedAt: null } } },
      select: { role: true },
    });
    return account && { accountId: claims.accountId, role: account.role, sessionId: claims.sessionId };
  }

  /** Which of these sessions are live (not revoked, their account enabled): one query for any number. */
  async liveOf(sessionIds: string[]): Promise<Set<string>> {
    if (sessionIds.length === 0) return new Set();
    const live = await this.prisma.session.findMany({
      where: { id: { in: sessionIds }, revokedAt: null, account: { disabledAt: null } },
      select: { id: true },
    });
    return new Set(live.map((session) => session.id));
  }

  private async issue(db: Db, account: Pick<Account, 'id' | 'role'>, sessionId: string): Promise<AuthTokens> {
    const refreshToken = newOpaqueToken();
    const refreshTokenExpiresAt = new Date(Date.now() + this.refreshTtlDays * 24 * 60 * 60 * 1000);
    await db.refreshToken.create({
      data: { sessionId, tokenHash: digestOf(refreshToken), expiresAt: refreshTokenExpiresAt },
    });
    const access = await this.accessTokens.sign({ accountId: account.id, role: account.role, sessionId });
    return { accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken, refreshTokenExpiresAt };
  }
}
