package dev.faultdisk.cli;

import dev.faultdisk.device.Export;
import dev.faultdisk.device.ExportRegistry;
import dev.faultdisk.device.ExportSpec;
import dev.faultdisk.nbd.NbdServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code faultdisk serve}: serves exports over NBD until interrupted. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve disk images over NBD. With no options: export disk0, an in-memory 1 GiB disk, on 127.0.0.1:10809.",
        footer = {"", "Examples:",
                "  faultdisk serve",
                "  faultdisk serve --export disk0=memory:10G --export data=/var/tmp/data.img,size=4G",
                "  faultdisk serve --export golden=/images/base.raw,readonly --nbd unix:/tmp/faultdisk.sock",
                "", "Ctrl-C or SIGTERM closes connections cleanly and flushes file-backed exports."})
final class ServeCommand implements Callable<Integer> {

    @Option(names = "--export", paramLabel = "NAME=SPEC",
            description = {"An export (repeatable). SPEC is memory:SIZE or a path to a raw image;",
                    "options: ,size=SIZE creates a missing image sparse (or extends it), ,readonly.",
                    "Default: disk0=memory:1G."})
    List<String> exports = new ArrayList<>();

    @Option(names = "--nbd", paramLabel = "HOST:PORT|unix:PATH", defaultValue = "127.0.0.1:10809",
            description = "Where to listen for NBD clients (default: ${DEFAULT-VALUE}).")
    String nbdAddress;

    private final PrintStream out = System.out;

    @Override
    public Integer call() throws Exception {
        List<ExportSpec> specs = new ArrayList<>();
        try {
            for (String e : exports.isEmpty() ? List.of("disk0=memory:1G") : exports) {
                specs.add(ExportSpec.parse(e));
            }
        } catch (IllegalArgumentException e) {
            System.err.println("faultdisk serve: " + e.getMessage());
            return 2;
        }
        SocketAddress address;
        try {
            address = Endpoints.parse(nbdAddress);
        } catch (IllegalArgumentException e) {
            System.err.println("faultdisk serve: " + e.getMessage());
            return 2;
        }
        ExportRegistry registry = new ExportRegistry();
        try {
            for (ExportSpec spec : specs) {
                registry.add(Export.open(spec));
            }
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("faultdisk serve: " + e.getMessage());
            registry.close();
            return 1;
        }
        NbdServer server = new NbdServer(registry);
        try {
            server.start(address);
        } catch (IOException e) {
            System.err.println("faultdisk serve: cannot listen on " + nbdAddress + ": " + e.getMessage());
            registry.close();
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdown(Duration.ofSeconds(5));
            try {
                registry.close();
            } catch (IOException e) {
                System.err.println("faultdisk: flushing exports failed: " + e.getMessage());
            }
            out.println("faultdisk: stopped; exports flushed.");
            out.flush();
            stopped.countDown();
        }, "faultdisk-shutdown"));
        printBanner(server.address(), registry);
        stopped.await();
        return 0;
    }

    private void printBanner(SocketAddress bound, ExportRegistry registry) {
        out.println("faultdisk: serving NBD on " + describe(bound));
        for (Export e : registry.all()) {
            out.println("  export " + e.name() + ": " + e.description());
        }
        String first = registry.all().getFirst().name();
        String uri = Endpoints.nbdUri(bound, first);
        out.println();
        out.println("Attach it with, for example:");
        out.println("  nbdinfo " + uri);
        out.println("  qemu-io -f raw -c 'read -v 0 512' " + uri);
        out.println("  qemu-system-x86_64 -drive file=" + uri + ",format=raw,if=virtio ...");
        if (bound instanceof InetSocketAddress inet) {
            out.println("  nbd-client " + inet.getHostString() + " " + inet.getPort() + " /dev/nbd0 -N " + first
                    + "   (root; modprobe nbd first)");
        } else if (bound instanceof UnixDomainSocketAddress unix) {
            out.println("  nbd-client -u " + unix.getPath() + " /dev/nbd0 -N " + first + "   (root; modprobe nbd first)");
        }
        out.println("  mkdir -p /tmp/fd && nbdfuse /tmp/fd " + uri + " &   (then: losetup -f --show /tmp/fd/nbd)");
        out.println("Stop with Ctrl-C.");
        out.flush();
    }

    private static String describe(SocketAddress address) {
        if (address instanceof InetSocketAddress inet) {
            return inet.getHostString() + ":" + inet.getPort();
        }
        return "unix:" + ((UnixDomainSocketAddress) address).getPath();
    }
}
