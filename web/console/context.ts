import { createI18n } from '../shared/i18n.ts';
import type { Application, Session } from './api.ts';
import { en, nl } from './texts.ts';

export const i18n = createI18n({ en, nl }, 'outband.console.locale');
export const t = i18n.t;

/** What every page gets: the signed-in agent, the application chosen, and how to move on. */
export interface PageContext {
  session: Session;
  app: Application | undefined;
  navigate(path: string): void;
  /** Sets the page title (and the document's). */
  title(text: string): void;
}

/** The console's own URL of a page: /console/<path>. */
export const BASE = '/console/';
export const href = (path: string) => BASE + path.replace(/^\//, '');
