import { expect, test } from "bun:test";
import pkg from "../package.json" with { type: "json" };
import { helpText, versionText } from "../src/help.ts";

const HELP = `
Usage:
 nsenter [options] [<program> [<argument>...]]

Run a program with namespaces of other processes.

Options:
 -a, --all                     enter all namespaces
 -t, --target <PID>            target process to get namespaces from
 -m, --mount[=<file>]          enter mount namespace
 -u, --uts[=<file>]            enter UTS namespace (hostname etc)
 -i, --ipc[=<file>]            enter System V IPC namespace
 -n, --net[=<file>]            enter network namespace
 -N, --net-socket <fd>         enter socket's network namespace (needs --target)
 -p, --pid[=<file>]            enter pid namespace
 -C, --cgroup[=<file>]         enter cgroup namespace
 -U, --user[=<file>]           enter user namespace
     --user-parent             enter parent user namespace
 -T, --time[=<file>]           enter time namespace
 -S, --setuid <uid>            set uid in entered namespace
 -G, --setgid <gid>            set gid in entered namespace
     --preserve-credentials    do not touch uids or gids
     --keep-caps               retain capabilities granted in user namespaces
 -r, --root[=<dir>]            set the root directory
 -w, --wd[=<dir>]              set the working directory
 -W, --wdns <dir>              set the working directory in namespace
 -e, --env                     inherit environment variables from target process
 -F, --no-fork                 do not fork before exec'ing <program>
 -c, --join-cgroup             join the cgroup of the target process
 -Z, --follow-context          set SELinux context according to --target PID
     --proc <dir>              read the target's /proc files from <dir>

 -h, --help                    display this help
 -V, --version                 display version

For more details see nsenter(1).
`;

test("--help is util-linux's layout", async () => {
  expect(await helpText("nsenter")).toBe(HELP);
});

test("--version names the project and its version", async () => {
  expect(await versionText("nsenter")).toBe(`nsenter from ${pkg.name} ${pkg.version}\n`);
});
