// Host API answers are checked before Faultline reads them: only the fields it uses, by JSON
// Schema (ajv). A malformed or hostile answer becomes one HostResponseError naming the host, the
// endpoint and the field, never a crash deeper in or a wrong action (say, editing a comment
// whose `user` could not be read). Octokit's types describe GitHub but validate nothing.
import { Ajv, type ErrorObject, type SchemaObject, type ValidateFunction } from 'ajv';

export class HostResponseError extends Error {
  constructor(
    readonly host: string,
    readonly endpoint: string, // e.g. 'GET /repos/{owner}/{repo}/issues/{n}/comments'
    readonly field: string, // JSON pointer into the answer, '' for the whole body
    detail: string,
  ) {
    super(`${host} ${endpoint}: unexpected answer: ${field ? `field ${field}` : 'body'} ${detail}`);
    this.name = 'HostResponseError';
  }
}

// Extra fields are normal (hosts add them all the time); only what is read is described.
const ajv = new Ajv({ allErrors: false, strict: true });

export type ResponseCheck<T> = (data: unknown) => T;

function fieldOf(e: ErrorObject): string {
  const missing = e.keyword === 'required' ? `/${String((e.params as { missingProperty?: string }).missingProperty)}` : '';
  return `${e.instancePath}${missing}`;
}

/**
 * A checker for one endpoint's answer; throws HostResponseError when it does not fit. `T` is the
 * shape the schema describes (ajv's JSONSchemaType cannot express nullable nested objects).
 */
export function responseCheck<T>(host: string, endpoint: string, schema: SchemaObject): ResponseCheck<T> {
  const validate: ValidateFunction<T> = ajv.compile(schema);
  return (data) => {
    if (validate(data)) return data;
    const e = validate.errors![0]!;
    throw new HostResponseError(host, endpoint, fieldOf(e), e.keyword === 'required' ? 'is missing' : (e.message ?? 'is invalid'));
  };
}
