package io.sandflow.cli;

import io.sandflow.config.ConfigException;
import io.sandflow.config.Settings;
import io.sandflow.config.SandflowConfig;
import io.sandflow.store.JobStore;

import java.nio.file.Files;
import java.nio.file.Path;

/** What the commands that read the ledger share: the store opened from the settings, without creating one. */
final class StoreCommands {

    private StoreCommands() {
    }

    /**
     * The store the daemon uses, with one connection: the default H2 URL has AUTO_SERVER=TRUE, so this works
     * while the daemon holds the file.
     */
    static JobStore openStore(Settings settings) {
        String url = SandflowConfig.storeUrl(settings);
        h2File(url).filter(file -> !Files.exists(file)).ifPresent(file -> {
            // Opening it would create an empty store (and data/) only to report nothing
            throw new ConfigException("no job store in " + settings.workDir() + ": " + file + " does not exist ("
                    + "sandflow.store.url=" + settings.get("sandflow.store.url") + ", from "
                    + settings.origin("sandflow.store.url") + "); run Sandflow here first, or name the working "
                    + "folder with -C");
        });
        return JobStore.open(url, System.getenv("SANDFLOW_STORE_USER"), System.getenv("SANDFLOW_STORE_PASSWORD"), 1);
    }

    /** The database file of an embedded H2 file URL (as resolved by {@link SandflowConfig#storeUrl}); empty for others. */
    static java.util.Optional<Path> h2File(String url) {
        if (!url.startsWith("jdbc:h2:") || url.startsWith("jdbc:h2:mem:") || url.startsWith("jdbc:h2:tcp:")
                || url.startsWith("jdbc:h2:ssl:")) {
            return java.util.Optional.empty();
        }
        String rest = url.substring("jdbc:h2:".length()).replaceFirst("^file:", "");
        int semi = rest.indexOf(';');
        String file = semi < 0 ? rest : rest.substring(0, semi);
        if (file.startsWith("~/")) {
            file = System.getProperty("user.home") + file.substring(1);
        }
        return java.util.Optional.of(Path.of(file + ".mv.db"));
    }
}
