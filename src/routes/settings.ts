import { Type } from 'typebox';
import type { TenantSettings } from '../auth/tenants.repository.js';
import { actorOf } from '../http/access.js';
import { errorResponses, Nullable } from '../http/schemas.js';
import type { VigieApp } from '../http/types.js';
import type { Services } from '../services.js';

const fields = {
  notification_email: Nullable(Type.String({ format: 'email', maxLength: 320, description: 'Default address for alert e-mails' })),
  heartbeat_threshold_minutes: Type.Integer({ minimum: 1, maximum: 10_080, description: 'Minutes of silence before a machine is down' }),
  consecutive_failures_threshold: Type.Integer({ minimum: 1, maximum: 100, description: 'Failed checks in a row before a monitor is down' }),
  alert_grouping_enabled: Type.Boolean({ description: 'Group notifications of one tenant into one message' }),
  timezone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone for schedules and messages, e.g. Europe/Paris' }),
  group_wait_seconds: Type.Integer({ minimum: 0, maximum: 3600, description: 'With grouping on: how long the first change of a group waits for others (default 30)' }),
  group_interval_seconds: Type.Integer({ minimum: 0, maximum: 86_400, description: 'With grouping on: how long later changes to a group wait after its last message (default 300)' }),
  repeat_interval_seconds: Type.Integer({ minimum: 0, maximum: 604_800, description: 'Reminder of an open incident every so often; 0: never (default 14400, 4 h)' }),
};

const SettingsResponse = Type.Object(fields);
const SettingsPatch = Type.Partial(Type.Object(fields), { minProperties: 1, additionalProperties: false });

function toResponse(settings: TenantSettings) {
  return {
    notification_email: settings.notificationEmail,
    heartbeat_threshold_minutes: settings.heartbeatThresholdMinutes,
    consecutive_failures_threshold: settings.consecutiveFailuresThreshold,
    alert_grouping_enabled: settings.alertGroupingEnabled,
    timezone: settings.timezone,
    group_wait_seconds: settings.groupWaitSeconds,
    group_interval_seconds: settings.groupIntervalSeconds,
    repeat_interval_seconds: settings.repeatIntervalSeconds,
  };
}

export function registerSettingsRoutes(app: VigieApp, services: Services): void {
  const tags = ['settings'];
  app.get('/api/v1/settings', { config: { access: 'read' }, schema: { tags, summary: "The tenant's settings", response: { 200: SettingsResponse, ...errorResponses(401, 403) } } }, async (request) =>
    toResponse(await services.settings.get(actorOf(request).tenantId)),
  );

  app.patch(
    '/api/v1/settings',
    {
      config: { access: 'admin' },
      schema: { tags, summary: "Change some of the tenant's settings", body: SettingsPatch, response: { 200: SettingsResponse, ...errorResponses(401, 403, 422) } },
    },
    async (request) => {
      const body = request.body;
      const updated = await services.settings.update(actorOf(request).tenantId, {
        notificationEmail: body.notification_email,
        heartbeatThresholdMinutes: body.heartbeat_threshold_minutes,
        consecutiveFailuresThreshold: body.consecutive_failures_threshold,
        alertGroupingEnabled: body.alert_grouping_enabled,
        timezone: body.timezone,
        groupWaitSeconds: body.group_wait_seconds,
        groupIntervalSeconds: body.group_interval_seconds,
        repeatIntervalSeconds: body.repeat_interval_seconds,
      });
      return toResponse(updated);
    },
  );
}
