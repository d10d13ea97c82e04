package io.sandflow.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class ProcessSpecTest {

    private static final Duration T = Duration.ofSeconds(1);

    @Test
    void rejectsBadFieldsNamingThem() {
        assertThatThrownBy(() -> new ProcessSpec(null, Map.of(), null, null, T, 1, 1)).hasMessageContaining("argv");
        assertThatThrownBy(() -> new ProcessSpec(List.of(), Map.of(), null, null, T, 1, 1))
                .hasMessageContaining("argv");
        assertThatThrownBy(() -> new ProcessSpec(Arrays.asList("a", null), Map.of(), null, null, T, 1, 1))
                .hasMessageContaining("argv[1]");
        assertThatThrownBy(() -> new ProcessSpec(List.of("a", "b\0c"), Map.of(), null, null, T, 1, 1))
                .hasMessageContaining("argv[1]");
        assertThatThrownBy(() -> new ProcessSpec(List.of(" "), Map.of(), null, null, T, 1, 1))
                .hasMessageContaining("argv[0]");
        assertThatThrownBy(() -> new ProcessSpec(List.of("a"), Map.of("A=B", "x"), null, null, T, 1, 1))
                .hasMessageContaining("environment");
        assertThatThrownBy(() -> new ProcessSpec(List.of("a"), Map.of(), null, null, null, 1, 1))
                .hasMessageContaining("timeout");
        assertThatThrownBy(() -> new ProcessSpec(List.of("a"), Map.of(), null, null, Duration.ZERO, 1, 1))
                .hasMessageContaining("timeout");
        assertThatThrownBy(() -> new ProcessSpec(List.of("a"), Map.of(), null, null, T, -1, 1))
                .hasMessageContaining("maxStdoutBytes");
        assertThatThrownBy(() -> new ProcessSpec(List.of("a"), Map.of(), null, null, T, 1, -1))
                .hasMessageContaining("tailBytes");
    }

    @Test
    void copiesItsInputsAndKeepsNullEnvironmentValues() {
        List<String> argv = new ArrayList<>(List.of("agent", "--flag"));
        Map<String, String> env = new HashMap<>();
        env.put("DROP_ME", null);
        byte[] stdin = {1, 2, 3};

        ProcessSpec spec = new ProcessSpec(argv, env, null, stdin, T, 10, 10);
        argv.add("--late");
        env.put("LATE", "x");
        stdin[0] = 9;
        spec.stdin()[1] = 9;

        assertThat(spec.argv()).containsExactly("agent", "--flag");
        assertThat(spec.environment()).containsOnlyKeys("DROP_ME").containsEntry("DROP_ME", null);
        assertThat(spec.stdin()).containsExactly(1, 2, 3);
        assertThat(spec).isEqualTo(new ProcessSpec(List.of("agent", "--flag"), env.entrySet().stream()
                .filter(e -> e.getKey().equals("DROP_ME")).collect(HashMap::new, (m, e) -> m.put(e.getKey(), null),
                        HashMap::putAll), null, new byte[] {1, 2, 3}, T, 10, 10));
    }

    @Test
    void toStringHidesEnvironmentValues() {
        ProcessSpec spec = new ProcessSpec(List.of("agent"), Map.of("API_KEY", "sk-secret"), null, null, T, 1, 1);

        assertThat(spec.toString()).contains("API_KEY").doesNotContain("sk-secret");
    }
}
