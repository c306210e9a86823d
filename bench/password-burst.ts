/**
 * `npm run bench -- users`' burst, in a process of its own: `count` user creates with passwords
 * sent at once, each on its own connection. Apart from the bench's process, so parsing 200 answers
 * never delays the read probe that times the API meanwhile. Prints one JSON line of the outcome.
 * Usage: node password-burst.js <baseUrl> <authorization> <run> <count> <password>
 */
const [baseUrl, authorization, run, countText, password] = process.argv.slice(2);
const count = Number(countText);
const started = performance.now();
const answers = await Promise.all(
  Array.from({ length: count }, async (_, i) => {
    try {
      const response = await fetch(`${baseUrl}/api/contacts.json`, {
        method: 'POST',
        headers: { authorization: authorization ?? '', 'content-type': 'application/json' },
        body: JSON.stringify({
          contact: { type: 'user', firstname: 'Ada', lastname: 'Byron', email: `burst-${run}-${i}@example.com`, password },
        }),
        signal: AbortSignal.timeout(60_000),
      });
      await response.arrayBuffer();
      return { status: String(response.status), retryAfter: Number(response.headers.get('retry-after')) };
    } catch (error) {
      return { status: error instanceof Error ? error.name : 'error', retryAfter: NaN };
    }
  }),
);
console.log(JSON.stringify({ seconds: (performance.now() - started) / 1000, answers }));
