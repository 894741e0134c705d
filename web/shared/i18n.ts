/**
 * A tiny message catalogue: `createI18n({ en, nl }, 'outband.console.locale')` picks the stored
 * choice, else the first of navigator.languages it has, else English; `t('key', { n: 3 })`
 * fills `{n}` placeholders. Setting a locale stores it and updates `<html lang>`.
 */
export type Catalogue = Record<string, string>;

export interface I18n {
  readonly locales: readonly string[];
  locale(): string;
  setLocale(locale: string): void;
  t(key: string, params?: Record<string, string | number>): string;
  /** Fires after setLocale. */
  onChange(listener: () => void): void;
}

export function createI18n(catalogues: Record<string, Catalogue>, storageKey: string, fallback = 'en'): I18n {
  const locales = Object.keys(catalogues);
  const listeners: Array<() => void> = [];
  const pick = (tag: string | null | undefined): string | undefined => {
    if (tag === null || tag === undefined) return undefined;
    const lower = tag.toLowerCase();
    return locales.find((l) => l === lower) ?? locales.find((l) => l === lower.split('-')[0]);
  };
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(storageKey);
  } catch {
    // Storage can be denied (private mode); the browser's language still applies.
  }
  let current = pick(stored) ?? navigator.languages.map(pick).find((l) => l !== undefined) ?? pick(navigator.language) ?? fallback;
  document.documentElement.lang = current;

  return {
    locales,
    locale: () => current,
    setLocale(locale) {
      const chosen = pick(locale);
      if (chosen === undefined) return;
      current = chosen;
      document.documentElement.lang = current;
      try {
        localStorage.setItem(storageKey, current);
      } catch {
        // Not persisted; the choice still holds for this page.
      }
      for (const listener of listeners) listener();
    },
    t(key, params = {}) {
      const text = catalogues[current]?.[key] ?? catalogues[fallback]?.[key] ?? key;
      return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
    },
    onChange(listener) {
      listeners.push(listener);
    },
  };
}
