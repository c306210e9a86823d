import 'reflect-metadata';
import { ConfigError, loadConfig } from '@app/config';
import { createApi } from './bootstrap.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApi(config);
  await app.listen({ port: config.PORT, host: config.HOST });
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`configuration: ${error.message}`);
  } else {
    console.error(error);
  }
  process.exit(1);
});
