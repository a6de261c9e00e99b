package dev.faultdisk.cli.campaign;

import dev.faultdisk.cli.HostTools;
import dev.faultdisk.client.FaultdiskClient;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One place a run can happen, so that several runs go at once (docs/CAMPAIGNS.md#parallel-runs):
 * slot 0 is the campaign's own exports and mount points, and this host's network; slot K is a
 * copy-on-write clone of every node's export on the same server ({@code EXPORT-slotK}, cloned
 * from the base snapshot), its own mount points ({@code MOUNT-slotK}, or
 * {@code WORKDIR/mnt/slotK/NAME}), its own control connections, and a network namespace of its
 * own in which every command of the slot runs. The namespace is what lets the nodes keep their
 * ports: a system that wrote its peers' addresses into its data directory at setup (etcd's
 * membership does) finds them again in every slot, and the disks stay identical to slot 0's.
 */
final class Slot {
    private static final Pattern CLONE = Pattern.compile(".*-slot[0-9]+");

    final int index;
    /** This slot's view of the nodes: export, NBD URI, mount point and variables. */
    final List<CampaignSpec.Node> nodes;

    final Map<String, FaultdiskClient> clients = new LinkedHashMap<>();
    final Map<String, NodeDisk> disks = new LinkedHashMap<>();
    /** The clone exports this slot added (removed again at the end). */
    final List<CampaignSpec.Node> clones = new ArrayList<>();

    /** The network namespace this slot's commands run in; null: this host's (slot 0). */
    final String netns;

    final CampaignSpec spec;

    private Slot(CampaignSpec spec, int index, List<CampaignSpec.Node> nodes, String netns) {
        this.spec = spec;
        this.index = index;
        this.nodes = nodes;
        this.netns = netns;
    }

    static Slot of(CampaignSpec spec, int index) {
        List<CampaignSpec.Node> nodes = new ArrayList<>();
        for (CampaignSpec.Node n : spec.nodes()) {
            Path mount = n.mount() != null
                    ? (index == 0
                            ? n.mount()
                            : n.mount().resolveSibling(n.mount().getFileName() + "-slot" + index))
                    : (index == 0
                            ? spec.workdir().resolve("mnt").resolve(n.name())
                            : spec.workdir()
                                    .resolve("mnt")
                                    .resolve("slot" + index)
                                    .resolve(n.name()));
            String export = exportIn(n.export(), index);
            nodes.add(new CampaignSpec.Node(
                    n.number(),
                    n.name(),
                    n.qmp(),
                    index == 0 || n.nbd().isEmpty() ? n.nbd() : uriFor(n.nbd(), n.export(), export),
                    export,
                    n.exportSpec(),
                    n.vars(),
                    n.filesystem(),
                    mount));
        }
        return new Slot(
                spec, index, List.copyOf(nodes), index == 0 ? null : "faultdisk-" + spec.name() + "-slot" + index);
    }

    /** Makes this slot's network namespace (again, if a campaign killed hard left it), loopback up. */
    void createNetwork() throws HostTools.ToolException {
        if (netns == null) {
            return;
        }
        HostTools.run("ip", "netns", "delete", netns);
        HostTools.check("ip", "netns", "add", netns);
        HostTools.check("ip", "-n", netns, "link", "set", "lo", "up");
    }

    /** Removes the network namespace (after its processes are gone). */
    void deleteNetwork() throws HostTools.ToolException {
        if (netns != null) {
            HostTools.run("ip", "netns", "delete", netns);
        }
    }

    /**
     * {@code command} as it runs in this slot: in its network namespace; with {@code exec}, the
     * shell there replaces itself with the command (a node's process is then the node). It enters
     * the network namespace only: {@code ip netns exec} would also give it a mount namespace of
     * its own, holding copies of every mount of the moment, and a copy of another slot's file
     * system outlives that slot's unmount at a restart (this host's mounts do not propagate), so
     * its page cache and unwritten data would live on beside the fresh mount.
     */
    String inSlot(String command, boolean exec) {
        if (netns == null) {
            return command;
        }
        return "nsenter --net=/run/netns/" + netns + " sh -c '"
                + ((exec ? "exec " : "") + command).replace("'", "'\\''") + "'";
    }

    /** The export a node uses in slot {@code index}. */
    static String exportIn(String export, int index) {
        return index == 0 ? export : export + "-slot" + index;
    }

    /** True if {@code name} is a slot's clone of {@code export} (left by a campaign killed hard). */
    static boolean isCloneOf(String name, String export) {
        return CLONE.matcher(name).matches() && name.startsWith(export + "-slot");
    }

    /** The NBD URI with the export's name (the path) replaced. */
    static String uriFor(String nbd, String export, String clone) {
        Matcher m = Pattern.compile("/" + Pattern.quote(export) + "(?=$|\\?)").matcher(nbd);
        if (!m.find()) {
            throw new IllegalArgumentException("cannot find export '" + export + "' in the URI " + nbd);
        }
        return nbd.substring(0, m.start()) + "/" + clone + nbd.substring(m.end());
    }

    /** A name for this node's files in this slot (logs, the nbdfuse directory). */
    String tag(CampaignSpec.Node n) {
        return index == 0 ? n.name() : n.name() + "-slot" + index;
    }

    CampaignSpec.Node node(String name) {
        return nodes.stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow();
    }

    FaultdiskClient client(CampaignSpec.Node n) {
        return clients.get(n.qmp());
    }

    /**
     * The NBD URI to attach {@code n}'s export at: the campaign's, or where the node's server says
     * it serves it (its {@code query-block}) when the campaign gives none.
     */
    String uri(CampaignSpec.Node n) {
        if (!n.nbd().isEmpty()) {
            return n.nbd();
        }
        return client(n)
                .exportUri(n.export())
                .orElseThrow(() -> new IllegalStateException("the server at " + n.qmp()
                        + " gives no NBD URI for export '" + n.export() + "': give nodes[].nbd"));
    }

    NodeDisk disk(CampaignSpec.Node n) {
        return disks.get(n.name());
    }

    /** Opens this slot's own control connections (a client is not shared between threads). */
    void connect() throws IOException {
        for (CampaignSpec.Node n : nodes) {
            if (!clients.containsKey(n.qmp())) {
                try {
                    clients.put(n.qmp(), FaultdiskClient.connect(n.qmp()));
                } catch (IOException e) {
                    throw new IOException(
                            "node " + n.name() + ": cannot reach the faultdisk server at " + n.qmp() + ": "
                                    + e.getMessage(),
                            e);
                }
            }
        }
    }

    @Override
    public String toString() {
        return "slot " + index;
    }
}
