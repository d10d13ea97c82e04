package io.sandflow.result;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;

/** A check across fields of a result that a JSON Schema cannot express. */
public interface ResultRule {

    /** The problems found in this result, each one short sentence; empty when the rule holds. */
    List<String> check(JsonNode result);
}
