import { z } from 'zod';
import { httpUrl, ms } from '../../core/config-fields.js';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
export const POD_RESOURCES_SOCKET = '/var/lib/kubelet/pod-resources/kubelet.sock';

const kubernetes = z.strictObject({
  enabled: z
    .union([z.boolean(), z.literal('auto')])
    .default('auto')
    .describe(
      "Watch this node's pods: runtimes are read at their pod's address and every runtime, probe and GPU-process series names its namespace, pod and container. auto: on when the agent runs in a pod (KUBERNETES_SERVICE_HOST set and a service account token mounted).",
    ),
  node_name: z
    .string()
    .min(1)
    .max(253)
    .optional()
    .describe(
      'The node whose pods are watched. Default: $NODE_NAME, which the DaemonSet sets from spec.nodeName.',
    ),
  api_url: httpUrl()
    .optional()
    .describe(
      'The API server. Default: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, as every pod has it.',
    ),
  token_file: z
    .string()
    .min(1)
    .default(`${SERVICE_ACCOUNT_DIR}/token`)
    .describe('The service account token, read again for every request (the kubelet rotates it).'),
  ca_file: z
    .string()
    .min(1)
    .default(`${SERVICE_ACCOUNT_DIR}/ca.crt`)
    .describe("The cluster CA the API server's certificate is checked against."),
  max_pods: z
    .int()
    .min(1)
    .max(5000)
    .default(250)
    .describe(
      'Pods on the node the agent keeps (Kubernetes allows 110 by default); more are left out and counted in inferwatch_kubernetes_pods_dropped.',
    ),
  timeout_ms: ms(500, 120_000)
    .default(10_000)
    .describe('Longest a pod list, or the start of a watch, may take.'),
  max_list_bytes: z
    .int()
    .min(64 * 1024)
    .max(512 * 1024 * 1024)
    .default(32 * 1024 * 1024)
    .describe('Largest pod list read; a larger one is an error.'),
  pod_resources: z
    .strictObject({
      enabled: z
        .union([z.boolean(), z.literal('auto')])
        .default('auto')
        .describe(
          'Ask the kubelet which pod holds each GPU (its pod-resources API, as dcgm-exporter does). auto: when the socket exists.',
        ),
      socket: z
        .string()
        .min(1)
        .default(POD_RESOURCES_SOCKET)
        .describe("The kubelet's pod-resources socket, mounted from the node."),
      interval_s: z
        .int()
        .min(1)
        .max(3600)
        .default(30)
        .describe('How often the GPUs are matched to pods again.'),
    })
    .prefault({})
    .describe('GPUs to pods, from the kubelet.'),
});

export const kubernetesConfig = kubernetes
  .prefault({})
  .describe("Kubernetes: this node's pods, and which pod holds each GPU.");
