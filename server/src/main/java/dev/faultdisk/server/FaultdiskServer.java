package dev.faultdisk.server;

import dev.faultdisk.device.Export;
import dev.faultdisk.device.ExportRegistry;
import dev.faultdisk.device.ExportSpec;
import dev.faultdisk.nbd.NbdServer;
import dev.faultdisk.qmp.CommandRegistry;
import dev.faultdisk.qmp.QmpServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;

/**
 * A whole faultdisk: exports, the NBD server that serves them and the QMP server that controls
 * them, with every control command registered. The command line and the JUnit extension both
 * start one of these.
 */
public final class FaultdiskServer implements AutoCloseable {
    private final ExportRegistry exports;
    private final NbdServer nbd;
    private final QmpServer qmp;
    private final CommandRegistry commands;

    private FaultdiskServer(ExportRegistry exports, NbdServer nbd, QmpServer qmp, CommandRegistry commands) {
        this.exports = exports;
        this.nbd = nbd;
        this.qmp = qmp;
        this.commands = commands;
    }

    public static Builder builder() {
        return new Builder();
    }

    public ExportRegistry exports() {
        return exports;
    }

    public NbdServer nbd() {
        return nbd;
    }

    public QmpServer qmp() {
        return qmp;
    }

    /** Every control command, for in-process use and for generating the QMP reference. */
    public CommandRegistry commands() {
        return commands;
    }

    public SocketAddress nbdAddress() {
        return nbd.address();
    }

    public List<SocketAddress> qmpAddresses() {
        return qmp.addresses();
    }

    /** Stops serving: NBD connections close, QMP sessions end, exports are flushed and closed. */
    @Override
    public void close() throws IOException {
        try {
            nbd.shutdown(Duration.ofSeconds(5));
            qmp.close();
        } finally {
            exports.close();
        }
    }

    /** Configures and starts a server. */
    public static final class Builder {
        private final List<ExportSpec> specs = new ArrayList<>();
        private SocketAddress nbdAddress = new InetSocketAddress("127.0.0.1", 10809);
        private final List<SocketAddress> qmpAddresses = new ArrayList<>();
        private InstantSource clock = InstantSource.system();

        private Builder() {
        }

        public Builder export(ExportSpec spec) {
            specs.add(spec);
            return this;
        }

        /** Adds an export given as {@code NAME=SPEC}. */
        public Builder export(String nameEqualsSpec) {
            return export(ExportSpec.parse(nameEqualsSpec));
        }

        public Builder nbd(SocketAddress address) {
            this.nbdAddress = address;
            return this;
        }

        /** Adds a QMP listen address (several are allowed; none means no QMP socket). */
        public Builder qmp(SocketAddress address) {
            qmpAddresses.add(address);
            return this;
        }

        public Builder clock(InstantSource clock) {
            this.clock = clock;
            return this;
        }

        /** Opens the exports and starts listening; on failure nothing stays open. */
        public FaultdiskServer start() throws IOException {
            if (specs.isEmpty()) {
                specs.add(ExportSpec.parse("disk0=memory:1G"));
            }
            ExportRegistry registry = new ExportRegistry();
            NbdServer nbd = null;
            QmpServer qmp = null;
            try {
                for (ExportSpec spec : specs) {
                    registry.add(Export.open(spec));
                }
                nbd = new NbdServer(registry);
                CommandRegistry commands = new CommandRegistry();
                qmp = new QmpServer(commands, QmpServer.Options.defaults().withClock(clock));
                ControlCommands.registerAll(commands, registry, nbd, qmp, clock);
                nbd.start(nbdAddress);
                for (SocketAddress address : qmpAddresses) {
                    qmp.listen(address);
                }
                return new FaultdiskServer(registry, nbd, qmp, commands);
            } catch (IOException | RuntimeException e) {
                if (nbd != null) {
                    nbd.shutdown(Duration.ZERO);
                }
                if (qmp != null) {
                    qmp.close();
                }
                try {
                    registry.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        }
    }
}
