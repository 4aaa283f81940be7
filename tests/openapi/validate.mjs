// Validates an OpenAPI document (default: docs/openapi.json) against the OpenAPI 3.1 schema
// with @apidevtools/swagger-parser, resolving every $ref. Exit 0 and one summary line when valid.
import SwaggerParser from '@apidevtools/swagger-parser';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const file = process.argv[2] || path.join(here, '..', '..', 'docs', 'openapi.json');
try {
  const api = await SwaggerParser.validate(file);
  const ops = Object.values(api.paths).reduce((n, p) => n + Object.keys(p).length, 0);
  console.log(`openapi: ${file} is valid OpenAPI ${api.openapi}: ` +
              `${Object.keys(api.paths).length} paths, ${ops} operations`);
} catch (e) {
  console.error(`openapi: ${file} is not valid: ${e.message}`);
  process.exit(1);
}
