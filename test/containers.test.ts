import { expect, test } from "bun:test";
import { containerOf } from "../src/containers.ts";

const ID = "0123456789abcdef".repeat(4);

test.each([
  [`0::/system.slice/docker-${ID}.scope`, ID],
  [`12:pids:/docker/${ID}\n0::/`, ID],
  [`0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1_2.slice/cri-containerd-${ID}.scope`, ID],
  [`0::/kubepods/burstable/pod0b4e6a0c-1111-2222-3333-444455556666/${ID}`, ID],
  [`0::/machine.slice/libpod-${ID}.scope/container`, ID],
  [`0::/kubepods.slice/kubepods-pod.slice/crio-${ID}.scope`, ID],
  [`0::/system.slice/nerdctl-${ID}.scope`, ID],
  [`0::/machine.slice/libpod-conmon-${ID}.scope`, undefined],
  ["0::/user.slice/user-1000.slice/session-1.scope", undefined],
  [`0::/system.slice/docker-${ID.slice(1)}.scope`, undefined],
])("containerOf(%j)", (cgroup, id) => {
  expect(containerOf(cgroup)).toBe(id);
});
