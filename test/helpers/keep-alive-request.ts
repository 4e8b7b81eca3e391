/**
 * One HTTP request on a keep-alive connection (node:http, not fetch: the crash tests need each
 * answer tied to one connection of their own agent), answered with its status and body text.
 * Rejects on any connection error: reset, refused, a response cut short, or no answer in 60 s.
 */
import { request, type Agent } from 'node:http';

export interface Answer {
  status: number;
  body: string;
}

export function sendOnce(agent: Agent, url: string, options: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method, agent, timeout: 60_000, headers: options.headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      response.on('error', reject);
      response.on('aborted', () => reject(new Error('response aborted')));
    });
    req.on('timeout', () => req.destroy(new Error(`${options.method} ${url} timed out`)));
    req.on('error', reject);
    req.end(options.body);
  });
}
