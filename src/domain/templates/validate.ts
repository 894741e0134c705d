import type { ChannelTemplate, TemplateChannel } from './catalog.ts';
import { isKnownPlaceholder, KNOWN_PLACEHOLDERS, PARAM_NAME, parseTemplate, placeholderUses, type PlaceholderUse, type Position } from './placeholders.ts';

export type TemplateField = 'subject' | 'title' | 'text' | 'html';

/** Which rule a template breaks; stable, for clients to switch on. */
export type TemplateRule =
  | 'field_required'
  | 'field_not_allowed'
  | 'too_long'
  | 'malformed'
  | 'unknown_placeholder'
  | 'placeholder_misused'
  | 'missing_code'
  | 'code_not_allowed';

export interface TemplateProblem {
  field: TemplateField;
  rule: TemplateRule;
  /** For the person who wrote the template: the rule that failed, naming the field and placeholder. */
  message: string;
  /** Where in the field, when the problem has a place (a syntax error, a placeholder). */
  position?: Position;
}

export interface ValidateOptions {
  /**
   * The parameter names the application declares. Given, a template may use only these besides
   * Outband's placeholders; absent, any valid parameter name that is not a near-miss of one of
   * Outband's placeholders ({app_nmae}) is taken for a parameter.
   */
  params?: readonly string[];
}

/** Fields each channel takes, and the longest each may be (in UTF-16 code units, before rendering). */
const FIELDS: Record<TemplateChannel, Partial<Record<TemplateField, { required: boolean; maxLength: number }>>> = {
  sms: { text: { required: true, maxLength: 1_000 } },
  voice: { text: { required: true, maxLength: 1_000 } },
  email: { subject: { required: true, maxLength: 200 }, text: { required: true, maxLength: 20_000 }, html: { required: false, maxLength: 100_000 } },
  push: { title: { required: true, maxLength: 100 }, text: { required: true, maxLength: 500 } },
};

const A_CHANNEL: Record<TemplateChannel, string> = { sms: 'an SMS', email: 'an e-mail', voice: 'a voice', push: 'a push' };

/**
 * The problems of a template an application saves for a channel; empty when it may be saved.
 *
 * - The channel's fields only (html and subject for email, title for push), the required ones
 *   not empty, none too long.
 * - Each field well-formed ICU MessageFormat; the parser's error and its line and column.
 * - Placeholders: {code}, {app_name}, {expires_in} and {expires_at} as plain `{name}`;
 *   {purpose} only in `{purpose, select, …}` (it is an id, not words); any other name is a
 *   parameter: lower case a–z, 0–9 and _, at most 32, never a date or time argument.
 * - {code}: required in an SMS, a call and both e-mail bodies; refused in an e-mail subject and
 *   anywhere in a push (both show on lock screens, and a push approval carries no code).
 *
 * @example
 * validateTemplate('sms', { text: 'Your {app_name code' });
 * // [{ field: 'text', rule: 'malformed', position: { offset: 5, line: 1, column: 6 },
 * //    message: 'text: malformed ICU message at line 1, column 6: a malformed placeholder: write {name} or {name, type, …} (MALFORMED_ARGUMENT)' }]
 */
export function validateTemplate(channel: TemplateChannel, template: ChannelTemplate, options: ValidateOptions = {}): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const allowed = FIELDS[channel];
  const fields: Record<TemplateField, string | undefined> = { subject: template.subject, title: template.title, text: template.text, html: template.html };
  for (const field of ['subject', 'title', 'text', 'html'] as const) {
    const source = fields[field];
    const rule = allowed[field];
    if (rule === undefined) {
      if (source !== undefined) {
        problems.push({ field, rule: 'field_not_allowed', message: `${field}: ${A_CHANNEL[channel]} template has no ${field} (it takes ${Object.keys(allowed).join(', ')})` });
      }
      continue;
    }
    if (source === undefined || source.trim() === '') {
      if (rule.required) problems.push({ field, rule: 'field_required', message: `${field}: ${A_CHANNEL[channel]} template needs a ${field}` });
      continue;
    }
    if (source.length > rule.maxLength) {
      problems.push({ field, rule: 'too_long', message: `${field}: ${source.length} characters; ${A_CHANNEL[channel]} ${field} holds at most ${rule.maxLength}` });
      continue;
    }
    problems.push(...fieldProblems(channel, field, source, options));
  }
  return problems;
}

function fieldProblems(channel: TemplateChannel, field: TemplateField, source: string, options: ValidateOptions): TemplateProblem[] {
  let uses: PlaceholderUse[];
  try {
    uses = placeholderUses(parseTemplate(source, 'en', { captureLocation: true }));
  } catch (error) {
    return [syntaxProblem(field, error)];
  }
  const problems: TemplateProblem[] = [];
  const problem = (rule: TemplateRule, message: string, use?: PlaceholderUse) => {
    const found: TemplateProblem = { field, rule, message: `${field}: ${message}` };
    if (use?.position !== undefined) found.position = use.position;
    problems.push(found);
  };

  for (const use of uses) {
    const { name, kind } = use;
    if (name === 'purpose') {
      if (kind !== 'select') problem('placeholder_misused', '{purpose} is an id, not words: use it as {purpose, select, transaction {…} other {…}}', use);
    } else if (isKnownPlaceholder(name)) {
      if (kind !== 'argument') problem('placeholder_misused', `{${name}} is text and is written as {${name}}, not {${name}, ${kind}, …}`, use);
    } else {
      const unknown = unknownParam(name, options);
      if (unknown !== undefined) problem('unknown_placeholder', unknown, use);
      else if (kind === 'date' || kind === 'time') problem('placeholder_misused', `{${name}, ${kind}}: dates and times are said only through {expires_at}, in the application's time zone`, use);
    }
  }

  const hasCode = uses.some((use) => use.name === 'code');
  const codeChannel = channel === 'sms' || channel === 'voice' || channel === 'email';
  if (channel === 'push' && hasCode) {
    problem('code_not_allowed', 'a push notification carries no code: it shows on the lock screen, and the user approves in the app');
  } else if (field === 'subject' && hasCode) {
    problem('code_not_allowed', 'an e-mail subject must not hold {code}: subjects show on lock screens and in inbox lists');
  } else if (codeChannel && field !== 'subject' && !hasCode) {
    const what = channel === 'email' ? `the e-mail's ${field} part` : channel === 'sms' ? 'an SMS' : 'a voice message';
    problem('missing_code', `${what} must contain {code}`);
  }
  return problems;
}

/** Why a placeholder name is not a parameter the template may use, or undefined when it is one. */
function unknownParam(name: string, options: ValidateOptions): string | undefined {
  const known = KNOWN_PLACEHOLDERS.map((k) => `{${k}}`).join(', ');
  if (options.params !== undefined) {
    if (options.params.includes(name)) return undefined;
    const declared = options.params.length === 0 ? 'none are declared' : `declared: ${options.params.map((p) => `{${p}}`).join(', ')}`;
    return `unknown placeholder {${name}}: use ${known} or a declared parameter (${declared})`;
  }
  if (!PARAM_NAME.test(name)) {
    return `unknown placeholder {${name}}: use ${known}, or a parameter name of lower-case letters, digits and _ that starts with a letter (at most 32)`;
  }
  // The nearest of the longer names; {code} is too short to tell a typo from a word ({mode}, {node}).
  const [near] = KNOWN_PLACEHOLDERS.filter((k) => k.length >= 7)
    .map((k) => ({ k, distance: editDistance(name, k) }))
    .filter(({ distance }) => distance <= 2)
    .sort((a, b) => a.distance - b.distance)
    .map(({ k }) => k);
  if (near !== undefined) return `unknown placeholder {${name}}: did you mean {${near}}? (a parameter this close to it is refused as a likely typo)`;
  return undefined;
}

// What the ICU parser's error kinds mean, for those a template writer is likely to meet.
const SYNTAX_ERRORS: Readonly<Record<string, string>> = {
  EXPECT_ARGUMENT_CLOSING_BRACE: 'a placeholder is not closed with "}"',
  MALFORMED_ARGUMENT: 'a malformed placeholder: write {name} or {name, type, …}',
  EMPTY_ARGUMENT: 'a placeholder has no name: "{}"',
  EXPECT_ARGUMENT_TYPE: 'expected an argument type after ","',
  INVALID_ARGUMENT_TYPE: 'unknown argument type (use select, plural, selectordinal or number)',
  EXPECT_ARGUMENT_STYLE: 'expected a style after ","',
  MISSING_OTHER_CLAUSE: 'a select or plural needs an "other {…}" case',
  EXPECT_SELECT_ARGUMENT_OPTIONS: 'a select needs its cases',
  EXPECT_PLURAL_ARGUMENT_SELECTOR: 'a plural needs its cases',
  EXPECT_SELECT_ARGUMENT_SELECTOR_FRAGMENT: 'a select case needs its message in "{…}"',
  EXPECT_PLURAL_ARGUMENT_SELECTOR_FRAGMENT: 'a plural case needs its message in "{…}"',
  DUPLICATE_SELECT_ARGUMENT_SELECTOR: 'a select has the same case twice',
  DUPLICATE_PLURAL_ARGUMENT_SELECTOR: 'a plural has the same case twice',
  INVALID_PLURAL_ARGUMENT_SELECTOR: 'a plural case must be zero, one, two, few, many, other or =N',
  UNCLOSED_QUOTE_IN_ARGUMENT_STYLE: "a quote (') is not closed",
};

function syntaxProblem(field: TemplateField, error: unknown): TemplateProblem {
  const kind = error instanceof Error ? error.message : String(error);
  const location = (error as { location?: { start?: Position } }).location?.start;
  const what = `${SYNTAX_ERRORS[kind] ?? kind.toLowerCase().replaceAll('_', ' ')} (${kind})`;
  const problem: TemplateProblem = {
    field,
    rule: 'malformed',
    message: location === undefined ? `${field}: malformed ICU message: ${what}` : `${field}: malformed ICU message at line ${location.line}, column ${location.column}: ${what}`,
  };
  if (location !== undefined) problem.position = { offset: location.offset, line: location.line, column: location.column };
  return problem;
}

/** Optimal string alignment distance: edits, adjacent swaps counted once ("app_nmae" → 1). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}
