/**
 * The baseline every benchmark compares against: a bare Fastify 5 route returning a small JSON,
 * on 127.0.0.1, logger off. It prints `listening <port>` once it listens.
 *
 *   node_modules/.bin/node bench/baseline-server.ts [port=0]
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/baseline', async () => ({ ok: true }));
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2] ?? 0) });
const address = app.server.address();
process.stdout.write(`listening ${typeof address === 'object' && address !== null ? address.port : 0}\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void app.close().then(() => process.exit(0)));
