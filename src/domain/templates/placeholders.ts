import { IntlMessageFormat } from 'intl-messageformat';

/** Placeholders that Outband fills in; every other name is a request parameter. */
export const KNOWN_PLACEHOLDERS = ['code', 'app_name', 'expires_in', 'expires_at', 'purpose'] as const;
export type KnownPlaceholder = (typeof KNOWN_PLACEHOLDERS)[number];

/** A request parameter's name, as a template writes it: `{order_id}`. */
export const PARAM_NAME = /^[a-z][a-z0-9_]{0,31}$/;

export function isKnownPlaceholder(name: string): name is KnownPlaceholder {
  return (KNOWN_PLACEHOLDERS as readonly string[]).includes(name);
}

/** How a template uses a placeholder: `{x}` is an argument, `{x, select, …}` a select, and so on. */
export type PlaceholderKind = 'argument' | 'number' | 'date' | 'time' | 'select' | 'plural';

export interface Position {
  /** 0-based offset in the template, in UTF-16 code units. */
  offset: number;
  line: number;
  column: number;
}

export interface PlaceholderUse {
  name: string;
  kind: PlaceholderKind;
  /** Only when the template was parsed with `captureLocation`. */
  position?: Position;
}

/**
 * The part of the ICU parser's AST that is read here (@formatjs/icu-messageformat-parser,
 * whose TYPE numbers the element kinds: literal 0, argument 1, number 2, date 3, time 4,
 * select 5, plural 6, pound 7, tag 8).
 */
interface AstElement {
  type: number;
  value?: unknown;
  options?: Record<string, { value: AstElement[] }>;
  children?: AstElement[];
  location?: { start: Position };
}

const KIND_BY_TYPE: ReadonlyMap<number, PlaceholderKind> = new Map([
  [1, 'argument'],
  [2, 'number'],
  [3, 'date'],
  [4, 'time'],
  [5, 'select'],
  [6, 'plural'],
]);

/** Every use of a placeholder in a parsed template, in order, branches of select and plural included. */
export function placeholderUses(format: IntlMessageFormat): PlaceholderUse[] {
  const uses: PlaceholderUse[] = [];
  const walk = (elements: readonly AstElement[]): void => {
    for (const element of elements) {
      const kind = KIND_BY_TYPE.get(element.type);
      if (kind !== undefined && typeof element.value === 'string') {
        const use: PlaceholderUse = { name: element.value, kind };
        if (element.location !== undefined) use.position = element.location.start;
        uses.push(use);
      }
      for (const option of Object.values(element.options ?? {})) walk(option.value);
      if (element.children !== undefined) walk(element.children);
    }
  };
  walk(format.getAst() as unknown as AstElement[]);
  return uses;
}

/**
 * Parses a template. ICU tags are off: `<b>` in an HTML body is text to the formatter, and a
 * lone `<` in an SMS is not a syntax error. Throws the parser's SyntaxError.
 */
export function parseTemplate(source: string, locale: string, options: { captureLocation?: boolean } = {}): IntlMessageFormat {
  return new IntlMessageFormat(source, locale, undefined, { ignoreTag: true, captureLocation: options.captureLocation ?? false });
}
