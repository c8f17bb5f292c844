/** Backing services for integration tests: PostgreSQL and Redis, local or from env URLs. */
export { startPostgres, type PostgresOptions, type PostgresServer } from './postgres.js';
export { startRedis, redisPing, REDIS_INSTALL_HINT, type RedisOptions, type RedisServer } from './redis.js';
