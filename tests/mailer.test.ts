// The outbox mailer sends each queued email once, and retries one whose sending failed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { startMailer, type MailTransport } from '../src/mail/mailer.js';
import type { Email } from '../src/mail/outbox.js';
import { startTestServer, type TestServer } from './support/testServer.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.close());

const logger = createLogger({ LOG_LEVEL: 'silent' });

function recordingTransport(failFor = new Set<string>()) {
  const sent: Email[] = [];
  const transport: MailTransport = {
    async send(email) {
      if (failFor.has(email.to)) throw new Error('SMTP said no');
      sent.push(email);
    },
  };
  return { sent, transport };
}

describe('mailer', () => {
  it('sends queued emails once, oldest first', async () => {
    await server.prisma.outboxEmail.createMany({
      data: [
        { to: 'a@example.test', subject: 'First', body: '1', createdAt: new Date(Date.now() - 2000) },
        { to: 'b@example.test', subject: 'Second', body: '2', createdAt: new Date(Date.now() - 1000) },
      ],
    });
    const { sent, transport } = recordingTransport();
    const mailer = startMailer(server.prisma, transport, logger, 60_000);
    expect(await mailer.flush()).toBe(2);
    expect(await mailer.flush()).toBe(0);
    await mailer.stop();
    expect(sent.map((email) => email.subject)).toEqual(['First', 'Second']);
    expect(await server.prisma.outboxEmail.count({ where: { sentAt: null } })).toBe(0);
  });

  it('keeps a failed email queued with its attempt counted, and sends it when the transport recovers', async () => {
    await server.prisma.outboxEmail.create({ data: { to: 'flaky@example.test', subject: 'Retry me', body: '3' } });
    const failing = recordingTransport(new Set(['flaky@example.test']));
    const mailer = startMailer(server.prisma, failing.transport, logger, 60_000);
    expect(await mailer.flush()).toBe(0);
    expect(await server.prisma.outboxEmail.findFirstOrThrow({ where: { to: 'flaky@example.test' } })).toMatchObject({
      sentAt: null,
      attempts: 1,
    });
    await mailer.stop();
    const working = recordingTransport();
    const recovered = startMailer(server.prisma, working.transport, logger, 60_000);
    expect(await recovered.flush()).toBe(1);
    expect(working.sent.map((email) => email.to)).toEqual(['flaky@example.test']);
    await recovered.stop();
  });

  it('keeps no reset or invitation token in the outbox once the email is sent', async () => {
    const email = `reset-${Date.now()}@example.test`;
    const signUp = await server.gql(
      'mutation ($input: CustomerSignUpInput!) { customerSignUp(input: $input) { userErrors { code } } }',
      { input: { email, password: 'correct horse battery staple', firstName: 'Ada', lastName: 'Lovelace' } },
    );
    expect(signUp.data.customerSignUp.userErrors).toEqual([]);
    const reset = await server.gql(
      'mutation ($email: String!) { passwordResetRequest(input: { email: $email }) { userErrors { code } } }',
      { email },
    );
    expect(reset.data.passwordResetRequest.userErrors).toEqual([]);
    const invited = `invited-${Date.now()}@example.test`;
    const invitation = await server.gql(
      `mutation ($input: StaffCreateInput!) { staffCreate(input: $input) { userErrors { code } } }`,
      { input: { email: invited, firstName: 'Grace', lastName: 'Hopper', role: 'STAFF' } },
      await server.tokenFor('ADMIN'),
    );
    expect(invitation.data.staffCreate.userErrors).toEqual([]);

    const { sent, transport } = recordingTransport();
    const mailer = startMailer(server.prisma, transport, logger, 60_000);
    await mailer.flush();
    await mailer.stop();

    for (const to of [email, invited]) {
      const token = /^([\w-]{43})$/m.exec(sent.find((message) => message.to === to)!.body)![1]!;
      const stored = await server.prisma.outboxEmail.findFirstOrThrow({ where: { to } });
      expect(stored.sentAt).not.toBeNull();
      expect(JSON.stringify(stored)).not.toContain(token);
      expect(stored.body).toContain('[removed after sending]');
    }
  });
});
