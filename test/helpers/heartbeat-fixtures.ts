/**
 * A heartbeat check's input with the defaults the heartbeat tests share: "nightly backup", a
 * simple schedule of 60 s + 30 s grace, no slug, tags or channels. Tests override what they test.
 */
import type { HeartbeatInput } from '../../src/heartbeats/heartbeats.service.js';

export const heartbeatInput = (input: Partial<HeartbeatInput> = {}): HeartbeatInput => ({
  name: 'nightly backup',
  slug: null,
  tags: [],
  description: '',
  timeoutSeconds: 60,
  graceSeconds: 30,
  schedule: null,
  tz: 'UTC',
  manualResume: false,
  methods: '',
  ...input,
});
