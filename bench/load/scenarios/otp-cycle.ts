/**
 * One OTP cycle as a relying party and its user go through it: start an SMS verification for
 * a user (`start`), read the code where the phone would (the development outbox, with a wait
 * that answers when the delivery worker has put the message there: `outbox`, reported on its
 * own; each request is an `outbox-poll`, one a cycle unless a wait ran out), and check it
 * (`check`). Until 12-06 (third session) the outbox was polled every 2 ms, about two requests a
 * cycle, the first nearly always too early: load on the server that no phone makes.
 *
 * params.userIds: the users to verify (made by the benchmark up front); loop i takes users
 * i, i + concurrency, i + 2·concurrency, … in turn, so no two loops share a user.
 */
import type { ScenarioContext } from '../../lib/load.ts';

const CODE = /code is (\d{4,10})/;

export default async function otpCycle(ctx: ScenarioContext): Promise<void> {
  const userIds = ctx.params['userIds'] as string[];
  const turn = (ctx.state['turn'] as number | undefined) ?? 0;
  ctx.state['turn'] = turn + 1;
  const mine = Math.max(1, Math.floor(userIds.length / ctx.concurrency));
  const userId = userIds[(ctx.loop + (turn % mine) * ctx.concurrency) % userIds.length]!;

  const started = await ctx.request('start', 'POST', '/v1/verifications', { channel: 'sms', user_id: userId }, { expect: [201] });
  const id = started.json.id as string;
  const code = await ctx.measure('outbox', async () => {
    for (let round = 0; round < 20; round++) {
      const listed = await ctx.request('outbox-poll', 'GET', `/v1/outbox?verification_id=${id}&limit=1&wait=10`);
      const match = CODE.exec((listed.json?.items?.[0]?.body as string | undefined) ?? '');
      if (match?.[1] !== undefined) return match[1];
    }
    throw new Error(`no outbox message for ${id}`);
  });
  const checked = await ctx.request('check', 'POST', `/v1/verifications/${id}/check`, { code });
  if (checked.json?.status !== 'approved') throw new Error(`check answered status ${checked.json?.status}`);
}
