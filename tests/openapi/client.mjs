// A client built from the document dsrd serves (openapi-client-axios makes one method per
// operationId) files a request, reads its status with the status token, and follows the type URI
// of an error to the page that explains it. Usage: node client.mjs http://127.0.0.1:PORT
import { OpenAPIClientAxios } from 'openapi-client-axios';
import axios from 'axios';
import assert from 'node:assert/strict';

const base = process.argv[2];
assert.ok(base, 'usage: node client.mjs BASE_URL');
const definition = (await axios.get(`${base}/openapi.json`)).data;
const api = new OpenAPIClientAxios({ definition, axiosConfigDefaults: { baseURL: base } });
const client = await api.init();
let checks = 0;

const created = await client.createRequest(null, {
  type: 'access', subject: { email: 'olive.openapi@example.org', phone: '+15550100555' },
});
assert.equal(created.status, 202);
assert.match(created.data.id, /^[0-9a-f-]{36}$/);
checks++;

const status = await client.getRequestStatus({ id: created.data.id }, null, {
  headers: { Authorization: `Bearer ${created.data.status_token}` },
});
assert.equal(status.status, 200);
assert.equal(status.data.id, created.data.id);
assert.equal(status.data.status, 'pending_verification');
checks++;

const bad = await client.createRequest(null, { type: 'access' }, { validateStatus: () => true });
assert.equal(bad.status, 400);
assert.equal(bad.data.code, 'field_missing');
assert.equal(bad.data.type, `${base}/errors/field_missing`);
const page = await axios.get(bad.data.type);
assert.equal(page.status, 200);
assert.match(page.data, /field_missing/);
checks++;

const health = await client.getHealth();
assert.deepEqual(health.data, { status: 'ok' });
checks++;
console.log(`openapi client: ${checks} checks passed (${Object.keys(client).filter(
  (k) => typeof client[k] === 'function').length} client methods)`);
