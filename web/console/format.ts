import { i18n, t } from './context.ts';

const toDate = (value: string | number) => new Date(typeof value === 'number' ? value : Date.parse(value));

export function dateTime(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return t('never');
  return new Intl.DateTimeFormat(i18n.locale(), { dateStyle: 'medium', timeStyle: 'medium' }).format(toDate(value));
}

export function time(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  return new Intl.DateTimeFormat(i18n.locale(), { timeStyle: 'medium' }).format(toDate(value));
}

/** 95 → "1:35", for the countdown's visible face. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** 95 → "1 minute 35 seconds" (for screen readers and the timer's label). */
export function spoken(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  const minutes = Math.floor(s / 60);
  const rest = s % 60;
  const parts: string[] = [];
  if (minutes > 0) parts.push(t(minutes === 1 ? 'minute' : 'minutes', { n: minutes }));
  if (rest > 0 || minutes === 0) parts.push(t(rest === 1 ? 'second' : 'seconds', { n: rest }));
  return parts.join(' ');
}
