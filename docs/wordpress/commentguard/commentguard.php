<?php
/**
 * Plugin Name: commentguard (example)
 * Description: Moderates new comments with a commentguard service over its HTTP/JSON door, and applies the service's
 *              later decisions (moderators, reports) from its signed webhook — the Akismet pattern. Example code.
 * Version: 0.1.0
 * Requires PHP: 7.4
 *
 * Configure in wp-config.php:
 *   define('COMMENTGUARD_URL', 'http://10.0.0.5:8080');          // commentguard's server.http_listen
 *   define('COMMENTGUARD_API_KEY', 'cg_…');                      // the site's API key
 *   define('COMMENTGUARD_WEBHOOK_SECRET', '…');                  // the site's [sites.webhook] secret
 * and point the site's [sites.webhook] url at  <home>/wp-json/commentguard/v1/decisions
 */

if (!defined('ABSPATH')) {
    exit;
}

require_once __DIR__ . '/includes/client.php';

/** The commentguard id of the comment being submitted, between pre_comment_approved and comment_post. */
$GLOBALS['commentguard_current'] = null;

/**
 * Asks commentguard before WordPress stores a comment, and maps its verdict to WordPress's approval value. Runs late
 * (priority 99) so WordPress's own checks (duplicates, flood, disallowed keys) decide first.
 */
add_filter('pre_comment_approved', function ($approved, $commentdata) {
    if (is_wp_error($approved) || $approved === 'spam' || $approved === 'trash') {
        return $approved;
    }
    $id = 'wp-' . wp_generate_uuid4();
    $parent = (int) ($commentdata['comment_parent'] ?? 0);
    if ($parent > 0) {
        $commentdata['commentguard_parent_id'] = get_comment_meta($parent, '_commentguard_id', true);
    }
    $commentdata['commentguard_permalink'] = get_permalink((int) ($commentdata['comment_post_ID'] ?? 0));
    $result = commentguard_submit(COMMENTGUARD_URL, COMMENTGUARD_API_KEY, commentguard_submit_payload($commentdata, $id));
    $GLOBALS['commentguard_current'] = ['id' => $id, 'answer' => $result['json']];
    return commentguard_approved_value($result);
}, 99, 2);

/** Remembers the commentguard id (for the webhook) and the redacted body (for display) with the stored comment. */
add_action('comment_post', function ($comment_id) {
    $current = $GLOBALS['commentguard_current'];
    $GLOBALS['commentguard_current'] = null;
    if (!$current) {
        return;
    }
    add_comment_meta($comment_id, '_commentguard_id', $current['id'], true);
    $redacted = is_array($current['answer']) ? ($current['answer']['redactedBody'] ?? '') : '';
    if ($redacted !== '') {
        update_comment_meta($comment_id, '_commentguard_redacted', $redacted);
    }
});

/** Shows the body with personal data masked, as commentguard redacted it (the original stays in the database). */
add_filter('comment_text', function ($text, $comment = null) {
    if (!$comment || is_admin()) {
        return $text;
    }
    if (get_comment_meta($comment->comment_ID, '_commentguard_publish_original', true)) {
        return $text;
    }
    $redacted = get_comment_meta($comment->comment_ID, '_commentguard_redacted', true);
    return $redacted !== '' ? esc_html($redacted) : $text;
}, 10, 2);

/**
 * The webhook: POST /wp-json/commentguard/v1/decisions. The signature is the authentication (hence the open
 * permission callback); the body is a ListDecisionsResponse in JSON, events oldest first, delivered at least once —
 * applying an event twice sets the same status twice, which is harmless.
 */
add_action('rest_api_init', function () {
    register_rest_route('commentguard/v1', '/decisions', [
        'methods' => 'POST',
        'permission_callback' => '__return_true',
        'callback' => function (WP_REST_Request $request) {
            $body = $request->get_body();
            $signature = $request->get_header('x-commentguard-signature');
            if (!commentguard_verify_signature($signature, $body, COMMENTGUARD_WEBHOOK_SECRET, time())) {
                return new WP_REST_Response(['error' => 'bad signature'], 401);
            }
            $page = json_decode($body, true);
            foreach (($page['events'] ?? []) as $event) {
                $ids = get_comments([
                    'meta_key' => '_commentguard_id',
                    'meta_value' => (string) ($event['commentId'] ?? ''),
                    'status' => 'all',
                    'number' => 1,
                    'fields' => 'ids',
                ]);
                if (!$ids) {
                    continue; // not one of this site's comments (or deleted since)
                }
                $comment_id = (int) $ids[0];
                if (!empty($event['publishOriginal'])) {
                    update_comment_meta($comment_id, '_commentguard_publish_original', 1);
                }
                if (($event['redactedBody'] ?? '') !== '') {
                    update_comment_meta($comment_id, '_commentguard_redacted', $event['redactedBody']);
                }
                wp_set_comment_status($comment_id, commentguard_event_status($event));
            }
            // 2xx only after every event was applied: commentguard then moves its cursor past this batch.
            return new WP_REST_Response(['applied' => count($page['events'] ?? [])], 200);
        },
    ]);
});
