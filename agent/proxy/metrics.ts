import { counter, gauge } from '../core/metric.js';

const ROUTE = ['listen', 'target'] as const;

export const PROXY_ROUTE_UP = gauge(
  'inferwatch_proxy_route_up',
  'Whether a metering route listens (1) or could not take its address (0; doctor and the log say why).',
  [...ROUTE, 'runtime'],
);
export const PROXY_STREAMS = gauge(
  'inferwatch_proxy_streams',
  'Requests a route carries now.',
  ROUTE,
);
export const PROXY_MAX_STREAMS = gauge(
  'inferwatch_proxy_max_streams',
  'Requests a route carries at most (proxy.max_streams); more are answered 503.',
  ROUTE,
);
export const PROXY_RESPONSES = counter(
  'inferwatch_proxy_responses_total',
  "Requests through a route by the HTTP status the client got (all paths, not only generations); code 0: none, the client left or the runtime's answer broke off.",
  [...ROUTE, 'code'],
);
export const PROXY_REFUSED = counter(
  'inferwatch_proxy_refused_total',
  'Requests a route answered 503 itself because proxy.max_streams were in flight.',
  ROUTE,
);
export const PROXY_UPSTREAM_FAILURES = counter(
  'inferwatch_proxy_upstream_failures_total',
  'Requests whose runtime failed them: unreachable (refused, no route), timeout (connect or idle past its limit), reset (the answer broke off).',
  [...ROUTE, 'reason'],
);

export const PROXY_METRICS = [
  PROXY_ROUTE_UP,
  PROXY_STREAMS,
  PROXY_MAX_STREAMS,
  PROXY_RESPONSES,
  PROXY_REFUSED,
  PROXY_UPSTREAM_FAILURES,
];
