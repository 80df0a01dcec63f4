// Writes schemas/chaos-workflow.schema.json from the schema built in code.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildWorkflowSchema } from './schema.js';

export const WORKFLOW_SCHEMA_FILE = fileURLToPath(new URL('../../schemas/chaos-workflow.schema.json', import.meta.url));

export function workflowSchemaFileText(): string {
  return JSON.stringify(buildWorkflowSchema(), null, 2) + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(WORKFLOW_SCHEMA_FILE, workflowSchemaFileText());
  console.log(`wrote ${WORKFLOW_SCHEMA_FILE}`);
}
