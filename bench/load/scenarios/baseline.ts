/** The baseline route: one GET /baseline per cycle. */
import type { ScenarioContext } from '../../lib/load.ts';

export default async function baseline(ctx: ScenarioContext): Promise<void> {
  await ctx.request('baseline', 'GET', '/baseline');
}
