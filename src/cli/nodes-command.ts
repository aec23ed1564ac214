import type { Command } from 'commander';
import { HttpClient } from '../core/http-client.js';
import type { ServerList, ServerRecord } from '../registry/index.js';
import { printTable, registryUrlOption } from './output.js';

/** `tessera nodes`: the registry as a table. */
export function addNodesCommand(program: Command): void {
  program
    .command('nodes')
    .description('List the servers the registry knows: role, id, url, status, heartbeat age.')
    .option('--role <role>', 'only servers of this role')
    .option('--status <status>', 'only active or inactive servers')
    .addOption(registryUrlOption())
    .option('--json', 'print JSON')
    .action(
      async (options: { role?: string; status?: string; registry: string; json?: boolean }) => {
        const http = new HttpClient({ maxRetries: 1, timeoutMs: 5_000 });
        const query = new URLSearchParams();
        if (options.role) query.set('role', options.role);
        if (options.status) query.set('status', options.status);
        try {
          const list = await http.getJson<ServerList>(
            `${options.registry}/servers?${query.toString()}`,
          );
          if (options.json) {
            process.stdout.write(`${JSON.stringify(list.servers, null, 2)}\n`);
            return;
          }
          printTable(list.servers.map(nodeRow), ['role', 'id', 'url', 'status', 'heartbeat']);
        } finally {
          await http.close();
        }
      },
    );
}

function nodeRow(server: ServerRecord): Record<string, string> {
  const ageS = Math.max(0, Date.now() / 1000 - server.last_heartbeat);
  return {
    role: server.role,
    id: server.server_id,
    url: server.url,
    status: server.status,
    heartbeat: `${ageS.toFixed(1)}s ago`,
  };
}
