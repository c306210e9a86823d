/**
 * The floor for a contact read: plain Fastify and a pg pool (same size as the API's), the same
 * query as the API, the row returned as JSON in the API's envelope. No Nest, no auth, no logging.
 * Env: DATABASE_URL, PORT, HOST.
 */
import Fastify from 'fastify';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 20, application_name: 'contacts-bench-bare' });
pool.on('error', () => undefined);

const app = Fastify({ logger: false });

app.get<{ Params: { id: string } }>('/api/contacts/:id.json', async (request, reply) => {
  // Named, like the API's read: parsed and planned once per connection.
  const { rows } = await pool.query<{ view: unknown }>({
    name: 'contacts_by_id',
    text: 'SELECT view FROM contacts WHERE id = $1',
    values: [request.params.id],
  });
  const row = rows[0];
  if (!row) return reply.status(404).send({ title: 'not found' });
  return { contact: row.view };
});

app.get('/health', async () => {
  await pool.query('SELECT 1');
  return { status: 'ok' };
});

const stop = (): void => {
  void app
    .close()
    .then(() => pool.end())
    .finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

await app.listen({ port: Number(process.env.PORT ?? 0), host: process.env.HOST ?? '127.0.0.1' });
