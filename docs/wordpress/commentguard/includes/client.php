<?php
/**
 * The parts of the commentguard plugin that do not need WordPress itself: the SubmitComment request, the verdict
 * mapping, the HTTP call (through WordPress's HTTP API: wp_remote_post / wp_remote_get) and the webhook signature
 * check. Example code: read it, adapt it, test it on a staging site first.
 *
 * Tested against a real commentguard server by tests/wordpress_php.rs (PHP CLI, with tests/wp_shim.php standing in
 * for WordPress's HTTP functions).
 */

/** Seconds a webhook's timestamp may differ from this server's clock (replayed deliveries are refused). */
const COMMENTGUARD_SIGNATURE_TOLERANCE = 300;

/**
 * The SubmitComment request for a comment WordPress is about to store ($commentdata as pre_comment_approved gets it).
 * Field names follow the proto's JSON mapping (lowerCamelCase).
 */
function commentguard_submit_payload(array $commentdata, string $comment_id): array
{
    $author = [
        'ip' => (string) ($commentdata['comment_author_IP'] ?? ''),
        'displayName' => (string) ($commentdata['comment_author'] ?? ''),
        'email' => (string) ($commentdata['comment_author_email'] ?? ''),
        'websiteUrl' => (string) ($commentdata['comment_author_url'] ?? ''),
        'userAgent' => (string) ($commentdata['comment_agent'] ?? ''),
    ];
    $user_id = (int) ($commentdata['user_id'] ?? 0);
    if ($user_id > 0) {
        $author['accountId'] = 'wp-user-' . $user_id;
    }
    $payload = [
        'commentId' => $comment_id,
        'threadId' => 'post-' . (int) ($commentdata['comment_post_ID'] ?? 0),
        'author' => $author,
        'body' => (string) ($commentdata['comment_content'] ?? ''),
        'format' => 'CONTENT_FORMAT_HTML',
    ];
    if (!empty($commentdata['commentguard_parent_id'])) {
        $payload['parentCommentId'] = (string) $commentdata['commentguard_parent_id'];
    }
    if (!empty($commentdata['commentguard_permalink'])) {
        $payload['permalink'] = (string) $commentdata['commentguard_permalink'];
    }
    return $payload;
}

/**
 * One call to commentguard's HTTP/JSON door. Returns ['status' => HTTP status (0: no answer), 'json' => the decoded
 * body or null, 'retry_after' => seconds or null]. Never throws: a moderation service that is down must not break
 * the comment form.
 */
function commentguard_request(string $base_url, string $api_key, string $method, string $path, ?array $payload = null, int $timeout = 3): array
{
    $args = [
        'timeout' => $timeout,
        'headers' => ['Authorization' => 'Bearer ' . $api_key, 'Accept' => 'application/json'],
    ];
    if ($payload !== null) {
        $args['headers']['Content-Type'] = 'application/json';
        $args['body'] = json_encode($payload, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
    }
    $url = rtrim($base_url, '/') . $path;
    $response = $method === 'POST' ? wp_remote_post($url, $args) : wp_remote_get($url, $args);
    if (is_wp_error($response)) {
        return ['status' => 0, 'json' => null, 'retry_after' => null];
    }
    $retry_after = wp_remote_retrieve_header($response, 'retry-after');
    return [
        'status' => (int) wp_remote_retrieve_response_code($response),
        'json' => json_decode(wp_remote_retrieve_body($response), true),
        'retry_after' => $retry_after === '' ? null : (int) $retry_after,
    ];
}

/** SubmitComment: POST /v1/comments:submit. */
function commentguard_submit(string $base_url, string $api_key, array $payload): array
{
    return commentguard_request($base_url, $api_key, 'POST', '/v1/comments:submit', $payload);
}

/** GetComment: GET /v1/comments/{id} (the comment's current state). */
function commentguard_get(string $base_url, string $api_key, string $comment_id): array
{
    return commentguard_request($base_url, $api_key, 'GET', '/v1/comments/' . rawurlencode($comment_id));
}

/** Whether a verdict's reasons say spam (then WordPress's spam folder, which teaches its own filters too). */
function commentguard_is_spam(array $codes): bool
{
    foreach ($codes as $code) {
        if (is_string($code) && strncmp($code, 'spam.', 5) === 0) {
            return true;
        }
    }
    return false;
}

/**
 * pre_comment_approved's value for a SubmitComment answer: APPROVED → 1, PENDING_REVIEW → 0, REJECTED → 'spam' when a
 * spam.* finding decided it, else 'trash'. No usable answer (service down, 429, 503) → 0: held for a human, never
 * published unchecked.
 */
function commentguard_approved_value(array $result)
{
    if ($result['status'] !== 200 || !is_array($result['json'])) {
        return 0;
    }
    $answer = $result['json'];
    switch ($answer['verdict'] ?? '') {
        case 'VERDICT_APPROVED':
            return 1;
        case 'VERDICT_REJECTED':
            $codes = array_map(fn ($f) => $f['code'] ?? '', $answer['findings'] ?? []);
            return commentguard_is_spam($codes) ? 'spam' : 'trash';
        default:
            return 0;
    }
}

/** wp_set_comment_status's value for a decision event (a moderator's later verdict, or a hide after reports). */
function commentguard_event_status(array $event): string
{
    switch ($event['verdict'] ?? '') {
        case 'VERDICT_APPROVED':
            return 'approve';
        case 'VERDICT_REJECTED':
            return commentguard_is_spam($event['reasonCodes'] ?? []) ? 'spam' : 'trash';
        default:
            return 'hold';
    }
}

/**
 * Checks X-Commentguard-Signature ("t=<unix>,v1=<hex>") over the raw request body: HMAC-SHA256 keyed with the site's
 * webhook secret over "<t>.<body>", compared in constant time, t within COMMENTGUARD_SIGNATURE_TOLERANCE of $now.
 * Any v1 may match (a secret being rotated).
 */
function commentguard_verify_signature(?string $header, string $body, string $secret, int $now): bool
{
    if ($header === null || $header === '' || $secret === '') {
        return false;
    }
    $t = null;
    $candidates = [];
    foreach (explode(',', $header) as $part) {
        $kv = explode('=', trim($part), 2);
        if (count($kv) !== 2) {
            continue;
        }
        if ($kv[0] === 't' && ctype_digit($kv[1])) {
            $t = (int) $kv[1];
        } elseif ($kv[0] === 'v1') {
            $candidates[] = $kv[1];
        }
    }
    if ($t === null || abs($now - $t) > COMMENTGUARD_SIGNATURE_TOLERANCE) {
        return false;
    }
    $expected = hash_hmac('sha256', $t . '.' . $body, $secret);
    foreach ($candidates as $candidate) {
        if (hash_equals($expected, $candidate)) {
            return true;
        }
    }
    return false;
}
