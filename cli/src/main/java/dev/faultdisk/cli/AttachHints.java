package dev.faultdisk.cli;

import dev.faultdisk.nbd.NbdServer;
import dev.faultdisk.nbd.NbdUri;
import dev.faultdisk.wire.net.TlsMode;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The banner's commands that attach the first export, as they work with the server's transport:
 * plaintext URIs, or with TLS libnbd's {@code nbds} URIs naming the certificates or the key file
 * and QEMU's credentials object (a plaintext command against a server requiring TLS fails).
 */
final class AttachHints {
    private AttachHints() {}

    static List<String> lines(SocketAddress bound, String export, NbdServer.Options options) {
        List<String> out = new ArrayList<>();
        String plain = NbdUri.of(bound, export, false);
        if (options.tlsMode() != TlsMode.REQUIRE) {
            out.add("  nbdinfo " + plain);
            out.add("  qemu-io -f raw -c 'read -v 0 512' " + plain);
            out.add("  qemu-system-x86_64 -drive file=" + plain + ",format=raw,if=virtio ...");
            if (bound instanceof InetSocketAddress inet) {
                out.add("  nbd-client " + inet.getHostString() + " " + inet.getPort() + " /dev/nbd0 -N " + export
                        + "   (root; modprobe nbd first)");
            } else if (bound instanceof UnixDomainSocketAddress unix) {
                out.add("  nbd-client -u " + unix.getPath() + " /dev/nbd0 -N " + export
                        + "   (root; modprobe nbd first)");
            }
            out.add("  mkdir -p /tmp/fd && nbdfuse /tmp/fd " + plain + " &   (then: losetup -f --show /tmp/fd/nbd)");
        }
        if (options.tlsMode() != TlsMode.OFF) {
            out.addAll(tls(bound, export, options));
        }
        return out;
    }

    /** Over TLS: with pre-shared keys as the key file's first user, else with the certificates. */
    private static List<String> tls(SocketAddress bound, String export, NbdServer.Options options) {
        String tls = NbdUri.of(bound, export, true);
        String object;
        String uri;
        if (options.psk() != null) {
            Path file = options.psk().file().toAbsolutePath();
            String user = options.psk().firstUser();
            uri = withUser(tls, user) + query(tls) + "tls-psk-file=" + file;
            // QEMU reads the key from DIR/keys.psk: only a file of that name can be given to it.
            object = file.getFileName().toString().equals("keys.psk")
                    ? "tls-creds-psk,id=tls0,dir=" + file.getParent() + ",username=" + user + ",endpoint=client"
                    : null;
        } else {
            Path dir = options.tls().directory().toAbsolutePath();
            uri = tls + query(tls) + "tls-certificates=" + dir;
            object = "tls-creds-x509,id=tls0,dir=" + dir + ",endpoint=client";
        }
        List<String> out = new ArrayList<>();
        out.add("  nbdinfo '" + uri + "'   (TLS)");
        out.add("  nbdcopy '" + uri + "' copy.img");
        if (object != null) {
            out.add("  qemu-io --object " + object + " --image-opts -c 'read -v 0 512' " + qemuTarget(bound, export));
        }
        return out;
    }

    /** QEMU's options for the NBD server at {@code bound} with the credentials tls0. */
    private static String qemuTarget(SocketAddress bound, String export) {
        String server = bound instanceof InetSocketAddress inet
                ? "host=" + NbdUri.clientHost(inet) + ",port=" + inet.getPort()
                : "server.type=unix,server.path=" + ((UnixDomainSocketAddress) bound).getPath()
                        + ",tls-hostname=localhost";
        return "driver=nbd," + server + ",export=" + export + ",tls-creds=tls0";
    }

    private static String withUser(String uri, String user) {
        int at = uri.indexOf("://") + 3;
        return uri.substring(0, at) + NbdUri.encodeUser(user) + "@" + uri.substring(at);
    }

    private static String query(String uri) {
        return uri.contains("?") ? "&" : "?";
    }
}
