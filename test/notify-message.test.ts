/**
 * The provider-independent message: subject, plain text and HTML, the time in the tenant's zone,
 * durations, escaping. Pure functions, so every expectation is the exact text a person receives.
 */
import { describe, expect, it } from 'vitest';
import { AT, item, notification, TENANT } from './helpers/notifications.js';
import { describeItem, escapeHtml, formatDuration, formatTime, renderHtml, renderMessage, renderSubject, renderText } from '../src/notify/message.js';
import { testNotification } from '../src/notify/notification.js';

const recovery = item({ fromState: 'down', toState: 'up', reason: 'HTTP 200 in 12 ms', at: AT + 3_900_000, downForMs: 3_900_000 });

describe('formatDuration', () => {
  it('shows the two largest units, rounded down, without a misleading zero in between', () => {
    expect(formatDuration(3_900_000)).toBe('1 h 5 min');
    expect(formatDuration(3_600_000)).toBe('1 h');
    expect(formatDuration(3_630_000)).toBe('1 h');
    expect(formatDuration(3_959_999)).toBe('1 h 5 min');
    expect(formatDuration(90_000)).toBe('1 min 30 s');
    expect(formatDuration(45_000)).toBe('45 s');
    expect(formatDuration(1000)).toBe('1 s');
    expect(formatDuration(93_784_000)).toBe('1 d 2 h');
    expect(formatDuration(2 * 86_400_000)).toBe('2 d');
  });

  it('under a second, or nonsense, is "less than 1 s"', () => {
    expect(formatDuration(999)).toBe('less than 1 s');
    expect(formatDuration(0)).toBe('less than 1 s');
    expect(formatDuration(-5)).toBe('less than 1 s');
    expect(formatDuration(Number.NaN)).toBe('less than 1 s');
  });
});

describe('formatTime', () => {
  it('shows the time in the given zone with its name and offset, summer time included', () => {
    expect(formatTime(AT, 'Europe/Paris')).toBe('2026-03-14 15:04:05 Europe/Paris (GMT+01:00)');
    expect(formatTime(Date.UTC(2026, 6, 14, 14, 4, 5), 'Europe/Paris')).toBe('2026-07-14 16:04:05 Europe/Paris (GMT+02:00)');
    expect(formatTime(AT, 'America/New_York')).toBe('2026-03-14 10:04:05 America/New_York (GMT-04:00)');
    expect(formatTime(Date.UTC(2026, 0, 1, 0, 0, 0), 'Asia/Kolkata')).toBe('2026-01-01 05:30:00 Asia/Kolkata (GMT+05:30)');
  });

  it("midnight is 00, not 24, and the date is the zone's date", () => {
    expect(formatTime(Date.UTC(2026, 2, 13, 23, 0, 0), 'Europe/Paris')).toBe('2026-03-14 00:00:00 Europe/Paris (GMT+01:00)');
  });

  it('an unknown zone falls back to UTC instead of failing the delivery', () => {
    expect(formatTime(AT, 'Mars/Olympus_Mons')).toBe('2026-03-14 14:04:05 UTC (GMT+00:00)');
    expect(formatTime(AT, 'UTC')).toBe('2026-03-14 14:04:05 UTC (GMT+00:00)');
  });
});

describe('renderSubject', () => {
  it('one item: tenant, monitor, kind and new state', () => {
    expect(renderSubject(notification([item()]))).toBe('[acme] api.example.com (http) is DOWN');
    expect(renderSubject(notification([item({ toState: 'warning', monitorKind: 'heartbeat', monitorName: 'nightly db' })]))).toBe('[acme] nightly db (heartbeat) is WARNING');
    expect(renderSubject(notification([recovery]))).toBe('[acme] api.example.com (http) is UP');
  });

  it('reminders and tests say so', () => {
    expect(renderSubject(notification([item()], { kind: 'reminder' }))).toBe('[acme] Reminder: api.example.com (http) is still DOWN');
    expect(renderSubject(testNotification(TENANT, AT))).toBe('[acme] Test: Vigie test monitor (http) is DOWN');
  });

  it('a group counts the new states', () => {
    const items = [item(), item({ monitorName: 'b' }), recovery];
    expect(renderSubject(notification(items))).toBe('[acme] 3 monitors: 2 DOWN, 1 UP');
  });

  it('stays on one line and within 200 characters, whatever the names hold', () => {
    const subject = renderSubject(notification([item({ monitorName: 'line one\r\nBcc: victim@example.com' })]));
    expect(subject).toBe('[acme] line one Bcc: victim@example.com (http) is DOWN');
    const long = renderSubject(notification([item({ monitorName: 'x'.repeat(500) })]));
    expect(long).toHaveLength(200);
    expect(long.endsWith('…')).toBe(true);
  });
});

describe('renderText', () => {
  it("an outage: monitor, kind, new state, reason and the time in the tenant's zone", () => {
    expect(renderText(notification([item()]))).toBe(
      [
        'api.example.com (http) is DOWN',
        '  Monitor: api.example.com',
        '  Kind: http',
        '  State: DOWN (was UP)',
        '  Reason: connection refused by api.example.com',
        '  Time: 2026-03-14 15:04:05 Europe/Paris (GMT+01:00)',
        '',
        '-- ',
        'Sent by Vigie for acme.',
        '',
      ].join('\n'),
    );
  });

  it('a recovery says how long it was down', () => {
    const text = renderText(notification([recovery]));
    expect(text).toContain('api.example.com (http) is UP\n');
    expect(text).toContain('  State: UP (was DOWN)\n');
    expect(text).toContain('  Reason: HTTP 200 in 12 ms\n');
    expect(text).toContain('  Time: 2026-03-14 16:09:05 Europe/Paris (GMT+01:00)\n');
    expect(text).toContain('  Down for: 1 h 5 min\n');
  });

  it('a group lists every monitor after an introduction; a missing reason is left out', () => {
    const text = renderText(notification([item(), item({ monitorName: 'worker', monitorKind: 'heartbeat', reason: null }), recovery]));
    expect(text.startsWith('3 monitors changed state.\n\n')).toBe(true);
    expect(text).toContain('api.example.com (http) is DOWN\n');
    expect(text).toContain('worker (heartbeat) is DOWN\n  Monitor: worker\n  Kind: heartbeat\n  State: DOWN (was UP)\n  Time: ');
    expect(text).toContain('  Down for: 1 h 5 min');
  });

  it('a reason that quotes a whole response is cut at 1,000 characters', () => {
    const reason = describeItem(item({ reason: 'y'.repeat(5000) }), 'UTC', 'alert').fields.find((field) => field.label === 'Reason');
    expect(reason?.value).toHaveLength(1000);
    expect(reason?.value.endsWith('…')).toBe(true);
  });

  it('the test message introduces itself', () => {
    expect(renderText(testNotification(TENANT, AT))).toMatch(/^This is a test message from Vigie: this channel receives notifications\.\n\nVigie test monitor \(http\) is DOWN\n/);
  });
});

describe('renderHtml', () => {
  it('holds the same facts as the text body', () => {
    const html = renderHtml(notification([recovery]));
    expect(html).toContain('<title>[acme] api.example.com (http) is UP</title>');
    expect(html).toContain('api.example.com (http) is UP</h2>');
    expect(html).toContain('<tr><th align="left" valign="top">Kind</th><td>http</td></tr>');
    expect(html).toContain('<tr><th align="left" valign="top">State</th><td>UP (was DOWN)</td></tr>');
    expect(html).toContain('<tr><th align="left" valign="top">Reason</th><td>HTTP 200 in 12 ms</td></tr>');
    expect(html).toContain('<tr><th align="left" valign="top">Time</th><td>2026-03-14 16:09:05 Europe/Paris (GMT+01:00)</td></tr>');
    expect(html).toContain('<tr><th align="left" valign="top">Down for</th><td>1 h 5 min</td></tr>');
  });

  it('escapes names, reasons and the tenant: a monitor named <script> stays text', () => {
    const hostile = notification([item({ monitorName: '<script>alert("x")</script>', reason: "body has <b>bold</b> & 'quotes'" })], {
      tenant: { name: 'Tom & <Jerry>', timeZone: 'UTC' },
    });
    const html = renderHtml(hostile);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>bold</b>');
    expect(html).not.toContain('<Jerry>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; (http) is DOWN</h2>');
    expect(html).toContain('<td>body has &lt;b&gt;bold&lt;/b&gt; &amp; &#39;quotes&#39;</td>');
    expect(html).toContain('Sent by Vigie for Tom &amp; &lt;Jerry&gt;.');
    // The text body is not HTML: there the name stays as typed.
    expect(renderText(hostile)).toContain('<script>alert("x")</script> (http) is DOWN');
  });

  it('escapeHtml handles the five special characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

describe('renderMessage', () => {
  it('is deterministic: a retried delivery sends the same message', () => {
    const n = notification([item(), recovery]);
    expect(renderMessage(n)).toEqual(renderMessage(structuredClone(n)));
    expect(renderMessage(n).subject).toBe(renderSubject(n));
  });
});
