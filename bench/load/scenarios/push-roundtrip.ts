/**
 * One push round trip as a relying party sees it: start a push verification (`start`), then
 * long-poll it (`wait`, GET …?wait=10) until the authenticator's approval ends it. The whole
 * span is `roundtrip`. The approval comes from `outband authenticator watch --approve-all`
 * processes the benchmark runs; nothing here answers for the device.
 *
 * params.userIds: users with one enrolled push device each; loop i takes user i mod count, so
 * the loops spread over every device (and so over every watcher process).
 */
import type { ScenarioContext } from '../../lib/load.ts';

export default async function pushRoundtrip(ctx: ScenarioContext): Promise<void> {
  const userIds = ctx.params['userIds'] as string[];
  const userId = userIds[ctx.loop % userIds.length]!;
  await ctx.measure('roundtrip', async () => {
    const started = await ctx.request('start', 'POST', '/v1/verifications', { channel: 'push', user_id: userId, message: 'Bench sign-in', matching: 'none' }, { expect: [201] });
    const id = started.json.id as string;
    const ended = await ctx.request('wait', 'GET', `/v1/verifications/${id}?wait=10`);
    if (ended.json?.status !== 'approved') throw new Error(`the long-poll answered status ${ended.json?.status}`);
  });
}
