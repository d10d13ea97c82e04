package io.sandflow.flow;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** The management server as a probe or a scraper on this machine sees it. */
public final class LocalHttp {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private LocalHttp() {
    }

    /** A port nothing listens on at the moment, for a daemon to take. */
    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** GET {@code path} on 127.0.0.1:{@code port}, waiting at most 15 s for the answer. */
    public static HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(15)).build();
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    }
}
