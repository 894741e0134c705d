import { ApiError } from './api.ts';
import { t } from './context.ts';

/** The text an agent reads for a refusal: our own words for the codes we know, else the server's detail. */
export function errorText(error: unknown): string {
  if (!(error instanceof ApiError)) return t('error.unreachable');
  const known = t(`error.${error.code}`);
  if (known !== `error.${error.code}`) {
    const retry = error.problem['retry_after'];
    return typeof retry === 'number' ? `${known} ${t('error.retryAfter', { n: retry })}` : known;
  }
  return error.problem.detail ?? error.problem.title ?? error.code;
}
