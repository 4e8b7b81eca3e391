/** Settings of monitors of kind `http` (seed 000's http_targets). JSON columns are text. */
export interface HttpTargetsTable {
  monitor_id: string;
  tenant_id: string;
  url: string;
  /** The URL normalised (kinds/http/url-key.ts), unique per tenant: seed 000's duplicate rule. */
  url_key: string;
  method: string;
  expected_status_code: number;
  timeout_seconds: number;
  follow_redirects: number;
  tls_skip_verify: number;
  headers_json: string;
  body: string | null;
  /** `{"type":"basic","username","password"}` or `{"type":"bearer","token"}`; never returned by the API. */
  auth_json: string | null;
  assertions_json: string;
}
