import { Type } from 'typebox';
import { CODE_LENGTH, MAX_ATTEMPTS, TTL_SECONDS } from '../../domain/policy/limits.ts';
import { POLICY_FIELDS } from '../../domain/policy/policies.ts';
import { WorkflowStep } from './verifications.ts';

export const PolicyBody = Type.Object(
  {
    channel: Type.Optional(
      Type.Union([Type.Literal('sms'), Type.Literal('email'), Type.Literal('voice'), Type.Literal('missed_call'), Type.Literal('push')], { description: 'The channel; or give workflow' }),
    ),
    workflow: Type.Optional(Type.Array(WorkflowStep, { minItems: 2, maxItems: 5, description: 'Fallback steps, as in POST /v1/verifications; its first step is the channel' })),
    purpose: Type.Optional(
      Type.Union([Type.Literal('authentication'), Type.Literal('transaction'), Type.Literal('caller_verification'), Type.Literal('confirm_contact')], {
        description: "What the verification is for; it chooses the message template (the application's own for the purpose, else the built-in one)",
      }),
    ),
    ttl_seconds: Type.Optional(Type.Integer({ minimum: TTL_SECONDS.min, maximum: TTL_SECONDS.max, description: `TTL, ${TTL_SECONDS.min}–${TTL_SECONDS.max} s and at most the application's max_ttl_seconds` })),
    max_attempts: Type.Optional(Type.Integer({ minimum: MAX_ATTEMPTS.min, maximum: MAX_ATTEMPTS.max, description: `Checks before the verification fails, ${MAX_ATTEMPTS.min}–${MAX_ATTEMPTS.max}` })),
    code_length: Type.Optional(Type.Integer({ minimum: CODE_LENGTH.min, maximum: CODE_LENGTH.max, description: `Digits of the code, ${CODE_LENGTH.min}–${CODE_LENGTH.max}; not for push` })),
    user_verification: Type.Optional(Type.Union([Type.Literal('required'), Type.Literal('preferred')], { description: 'push: whether an approval needs a PIN or biometric' })),
    matching: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('pick'), Type.Literal('type'), Type.Literal('read_back')], { description: 'push: number matching' })),
    device: Type.Optional(Type.Literal('primary', { description: "push: send to the user's primary push authenticator only" })),
    message: Type.Optional(Type.String({ minLength: 1, maxLength: 300, description: 'push: what the authenticator shows' })),
    overridable: Type.Optional(
      Type.Array(Type.Union([...POLICY_FIELDS].map((f) => Type.Literal(f)) as [ReturnType<typeof Type.Literal<(typeof POLICY_FIELDS)[number]>>]), {
        uniqueItems: true,
        description: 'Fields a request naming this policy may give a value of its own for (device: device_id); other fields the policy sets are fixed',
      }),
    ),
  },
  { additionalProperties: false, description: 'A named verification policy' },
);

export const PolicyView = Type.Object({
  name: Type.String({ description: 'The policy name' }),
  built_in: Type.Boolean({ description: 'Built into Outband (read-only)' }),
  replaces_built_in: Type.Boolean({ description: "The application's own policy saved under a built-in name, which it replaces" }),
  policy: PolicyBody,
  updated_at: Type.Union([Type.Null(), Type.String({ format: 'date-time' })], { description: 'When it was last saved; null for a built-in one' }),
});

export const PolicyList = Type.Object({ items: Type.Array(PolicyView, { description: "The built-in policies and the application's own, by name" }) });

export const PolicyParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 63, description: 'The policy name: lower-case letters, digits, dashes and underscores' }) });
