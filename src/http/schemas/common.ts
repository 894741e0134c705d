import { Type, type TSchema } from 'typebox';

/** RFC 9457 problem details, with our stable `code`; extra members depend on the code. */
export const Problem = Type.Object(
  {
    type: Type.String({ description: 'A URI naming the problem type: the error code under /errors/' }),
    title: Type.String({ description: 'Short summary of the problem type' }),
    status: Type.Integer({ description: 'The HTTP status' }),
    code: Type.String({ description: 'Stable machine-readable error code (see docs/errors.md)' }),
    detail: Type.String({ description: 'What went wrong in this request, for a developer' }),
    instance: Type.Optional(Type.String({ description: 'The request id' })),
  },
  { additionalProperties: true, description: 'An error, as application/problem+json (RFC 9457)' },
);

/** Every error status a route may answer, with the problem schema. */
export function problems(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((s) => [s, Problem]));
}

export const Id = (description: string) => Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z]{3}_[a-z2-7]{1,58}$', description });

export const Timestamp = (description: string) => Type.String({ format: 'date-time', description });

export const NullableString = (options: { description: string; maxLength?: number; minLength?: number }) =>
  Type.Union([Type.Null(), Type.String({ maxLength: options.maxLength ?? 256, minLength: options.minLength ?? 0 })], { description: options.description });
