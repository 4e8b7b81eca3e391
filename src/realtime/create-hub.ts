/** The hub a process uses: Redis pub/sub when REDIS_URL is set (several processes), in-process otherwise. */
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createInProcessHub, type ClosableHub } from './hub.js';
import { createRedisHub } from './redis-hub.js';

export function createHubFor(config: Pick<Config, 'redisUrl' | 'realtimeChannelPrefix'>, logger: Logger): ClosableHub {
  const onError = (error: unknown) => logger.warn({ err: error }, 'realtime hub');
  if (config.redisUrl) return createRedisHub({ url: config.redisUrl, prefix: config.realtimeChannelPrefix, onError });
  return createInProcessHub({ onListenerError: onError });
}
