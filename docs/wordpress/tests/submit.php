<?php
/**
 * php submit.php BASE_URL API_KEY COMMENT_ID BODY [IP]
 * Runs the plugin's SubmitComment path (payload → wp_remote_post → verdict mapping) and GetComment against a real
 * server, printing one JSON object: {"status", "approved", "verdict", "retry_after", "get_status", "get_verdict"}.
 */
require __DIR__ . '/wp_shim.php';
require __DIR__ . '/../commentguard/includes/client.php';

[, $base, $key, $id, $body] = $argv;
$ip = $argv[5] ?? '203.0.113.50';
$commentdata = [
    'comment_post_ID' => 42,
    'comment_author' => 'A Reader',
    'comment_author_email' => 'reader@example.com',
    'comment_author_url' => '',
    'comment_author_IP' => $ip,
    'comment_agent' => 'php-cli',
    'comment_content' => $body,
    'user_id' => 7,
];
$result = commentguard_submit($base, $key, commentguard_submit_payload($commentdata, $id));
$got = commentguard_get($base, $key, $id);
echo json_encode([
    'status' => $result['status'],
    'approved' => commentguard_approved_value($result),
    'verdict' => $result['json']['verdict'] ?? null,
    'retry_after' => $result['retry_after'],
    'error_code' => $result['json']['code'] ?? null,
    'get_status' => $got['status'],
    'get_verdict' => $got['json']['verdict'] ?? null,
]), "\n";
