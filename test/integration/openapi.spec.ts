import { writeFileSync } from 'node:fs';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { createTestApi, type TestApi } from '../support/test-api.js';

describe('OpenAPI document', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi({ label: 'openapi-lint' });
  });
  afterAll(() => api.close());

  it('passes redocly recommended', async () => {
    const response = await api.http.inject({ method: 'GET', url: '/api/docs-json' });
    writeFileSync('tmp/openapi.json', JSON.stringify(response.json(), null, 2));
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: response.body, absoluteRef: 'openapi.json', config });
    writeFileSync('tmp/lint.json', JSON.stringify(problems.map((p) => ({ rule: p.ruleId, severity: p.severity, message: p.message, where: p.location.map((l) => l.pointer) })), null, 2));
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
  });
});
