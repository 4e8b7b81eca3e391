/**
 * The package entry (`import { monitorTask, sendPing } from 'vigie'`): only the ping clients, so
 * that importing it never loads the server, its database drivers or its configuration.
 */
export { monitorTask, describeTaskError, type MonitorTaskOptions } from './clients/monitor-task.js';
export { buildPingUrl, sendPing, type PingKind, type PingResult, type SendPingOptions } from './clients/ping-client.js';
