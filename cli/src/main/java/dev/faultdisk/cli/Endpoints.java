package dev.faultdisk.cli;

import dev.faultdisk.client.ControlAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;

/** Listen addresses for serve (parsed as the control client parses them, port 0 allowed) and NBD URIs. */
final class Endpoints {
    private Endpoints() {}

    static SocketAddress parse(String text) {
        return ControlAddress.parseListenAddress(text);
    }

    /** The NBD URI a client uses for an export at this address. */
    static String nbdUri(SocketAddress address, String export) {
        if (address instanceof UnixDomainSocketAddress unix) {
            return "nbd+unix:///" + export + "?socket=" + unix.getPath();
        }
        InetSocketAddress inet = (InetSocketAddress) address;
        String host = inet.getHostString();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return "nbd://" + host + ":" + inet.getPort() + "/" + export;
    }
}
