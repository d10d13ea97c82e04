package io.sandflow.config;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * Where the management server (metrics, health) listens: sandflow.http.host (loopback unless the user says
 * otherwise) and sandflow.http.port. A port out of range, an unknown host or a port another program holds stops
 * start-up with one sentence, before Camel would fail on it with a stack trace or carry on without HTTP.
 */
public final class HttpPort {

    private HttpPort() {
    }

    /** sandflow.http.port: 0 (off) to 65535. */
    public static int port(Settings s) {
        int port = s.nonNegativeInt("sandflow.http.port");
        if (port > 65535) {
            throw s.invalid("sandflow.http.port", "must be a port number from 1 to 65535, or 0 for no HTTP server");
        }
        return port;
    }

    /** sandflow.http.host: a name or address this machine can listen on. */
    public static String host(Settings s) {
        return s.required("sandflow.http.host");
    }

    /** Stops start-up when the management server could not listen where the settings say. */
    public static void requireFree(SandflowConfig.Http http) {
        if (http.port() > 0) {
            problem(http.host(), http.port()).ifPresent(p -> {
                throw new ConfigException(p);
            });
        }
    }

    /**
     * Binds the address for a moment to learn whether the server could.
     *
     * @return one sentence naming the setting at fault, or empty when the address is free
     */
    public static Optional<String> problem(String host, int port) {
        InetAddress address;
        try {
            address = InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            return Optional.of("sandflow.http.host=" + host + " is not a name or address of this machine");
        }
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(address, port));
            return Optional.empty();
        } catch (BindException e) {
            String why = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
            if (why.contains("assign")) {
                return Optional.of("sandflow.http.host=" + host + " is not an address of this machine");
            }
            if (why.contains("permission") || why.contains("access")) {
                return Optional.of("sandflow.http.port=" + port + " needs privileges this user lacks on " + host
                        + "; pick a port above 1023, or 0 for no HTTP server");
            }
            return Optional.of("sandflow.http.port=" + port + " is already in use on " + host
                    + " by another program; pick a free port, or 0 for no HTTP server");
        } catch (IOException e) {
            return Optional.of("sandflow.http.port=" + port + " cannot be opened on " + host + ": " + e.getMessage());
        }
    }
}
