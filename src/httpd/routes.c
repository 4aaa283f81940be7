/**
 * @file routes.c
 * @brief The one routing table: every route's method, pattern, handler,
 *        authentication, roles and request spec. Only main.c (which hands it
 *        to the dispatcher through struct dsr_app) and the tests name it, so
 *        the handlers it points at never depend back on it.
 */
#include "config.h"
#include "httpd.h"

/* Role sets for staff routes. */
#define STAFF_ALL DSR_ROLES_ALL
#define STAFF_ACTORS (DSR_ROLE_ADMIN | DSR_ROLE_TRIAGER | DSR_ROLE_APPROVER)
#define TRIAGE (DSR_ROLE_ADMIN | DSR_ROLE_TRIAGER)
#define DECIDE (DSR_ROLE_ADMIN | DSR_ROLE_APPROVER)
#define AUDIT (DSR_ROLE_ADMIN | DSR_ROLE_AUDITOR)

/* Auditors read only; triagers verify, assign and hold; approvers decide. */
const struct dsr_role_rule dsrd_admin_action_roles[] = {
    {"verify", TRIAGE}, {"assign", TRIAGE},  {"hold", TRIAGE},   {"release", TRIAGE},
    {"approve", DECIDE}, {"deny", DECIDE}, {"extend", DECIDE}, {"withdraw", STAFF_ACTORS},
    {NULL, 0},
};

/* The bulk actions of the queue page: the same rules, and nothing else. */
static const struct dsr_role_rule bulk_action_roles[] = {
    {"assign", TRIAGE}, {"approve", DECIDE}, {"deny", DECIDE}, {NULL, 0},
};

/* Short forms for the table below; every column not named is empty. */
#define GET(p, h) .method = "GET", .pattern = (p), .handler = (h)
#define POST(p, h) .method = "POST", .pattern = (p), .handler = (h)
#define DELETE(p, h) .method = "DELETE", .pattern = (p), .handler = (h)

const struct dsr_route dsr_routes[] = {
    /* operations */
    {GET("/healthz", dsrd_healthz)},
    {GET("/readyz", dsrd_readyz)},
    {GET("/metrics", dsrd_metrics)}, /* metrics_allow addresses or metrics_token (the handler) */
    {GET("/openapi.json", dsrd_openapi)},
    {GET("/errors/{code}", dsrd_error_page), .html = true}, /* what an error type URI names */
    /* the public subject API */
    {POST("/v1/requests", dsrd_requests_create), .body = dsrd_request_create_spec,
     .rate = DSR_RATE_INTAKE_ADDRESS},
    {GET("/v1/requests/{id}", dsrd_requests_get), .auth = DSR_AUTH_STATUS_TOKEN},
    {POST("/v1/requests/{id}/verify", dsrd_verify), .body = dsrd_verify_spec,
     .rate = DSR_RATE_VERIFY_ADDRESS},
    {POST("/v1/requests/{id}/resend", dsrd_resend), .auth = DSR_AUTH_STATUS_TOKEN,
     .body = dsrd_resend_spec, .rate = DSR_RATE_VERIFY_ADDRESS},
    {POST("/v1/requests/{id}/withdraw", dsrd_withdraw), .auth = DSR_AUTH_STATUS_TOKEN},
    /* download links of access / portability packages (token: ?token= or Bearer) */
    {GET("/v1/exports/{id}", dsrd_exports_get)},
    /* the platform's services: is this subject's processing restricted? (service key) */
    {GET("/v1/restrictions/check", dsrd_restrictions_check), .auth = DSR_AUTH_SERVICE},
    /* public pages (HTML; forms carry a double-submit CSRF token) */
    {GET("/", dsrd_page_form), .html = true},
    {GET("/requests/new", dsrd_page_form), .html = true},
    {POST("/requests/new", dsrd_page_create), .form = dsrd_page_create_form,
     .rate = DSR_RATE_INTAKE_ADDRESS, .html = true},
    {GET("/requests/{id}/verify", dsrd_page_verify), .html = true},
    {POST("/requests/{id}/verify", dsrd_page_verify_post), .form = dsrd_page_verify_form,
     .rate = DSR_RATE_VERIFY_ADDRESS, .html = true},
    {POST("/requests/{id}/resend", dsrd_page_resend), .form = dsrd_page_resend_form,
     .rate = DSR_RATE_VERIFY_ADDRESS, .html = true},
    {GET("/requests/{id}/status", dsrd_page_status), .html = true},
    {POST("/requests/{id}/withdraw", dsrd_page_withdraw), .form = dsrd_page_withdraw_form,
     .html = true},
    {POST("/requests/{id}/download", dsrd_page_download_post), .form = dsrd_page_download_form,
     .html = true},
    /* the mailed download link: a page whose button downloads (link scanners count nothing) */
    {GET("/downloads/{id}", dsrd_download_page), .html = true},
    {POST("/downloads/{id}", dsrd_download_post), .form = dsrd_download_form, .html = true},
    {GET("/static/style.css", dsrd_page_css)},
    {GET("/static/icon.svg", dsrd_page_icon)},
    /* staff: the privacy team's queue */
    {GET("/v1/admin/requests", dsrd_admin_requests_list), .auth = DSR_AUTH_STAFF,
     .roles = STAFF_ALL},
    {GET("/v1/admin/requests/{id}", dsrd_admin_requests_get), .auth = DSR_AUTH_STAFF,
     .roles = STAFF_ALL},
    {GET("/v1/admin/requests/{id}/plan", dsrd_admin_requests_plan), .auth = DSR_AUTH_STAFF,
     .roles = STAFF_ALL},
    {POST("/v1/admin/requests/{id}/corrections/{n}", dsrd_corrections_decide),
     .auth = DSR_AUTH_STAFF, .body = dsrd_correction_decide_spec,
     .roles = DSR_ROLE_ADMIN | DSR_ROLE_APPROVER},
    {POST("/v1/admin/requests/{id}/restriction/lift", dsrd_restrictions_lift),
     .auth = DSR_AUTH_STAFF, .body = dsrd_restriction_lift_spec,
     .roles = DSR_ROLE_ADMIN | DSR_ROLE_APPROVER},
    {POST("/v1/admin/requests/{id}/actions", dsrd_admin_requests_act), .auth = DSR_AUTH_STAFF,
     .body = dsrd_admin_action_spec, .roles = STAFF_ACTORS, .role_field = "action",
     .role_rules = dsrd_admin_action_roles},
    /* the requester's withdrawal, passed on by staff (they phoned in): the "withdraw" action */
    {POST("/v1/admin/requests/{id}/withdraw", dsrd_admin_requests_withdraw),
     .auth = DSR_AUTH_STAFF, .body = dsrd_admin_withdraw_spec, .roles = STAFF_ACTORS},
    /* staff: auditors and admins read the audit trail and the compliance report */
    {GET("/v1/admin/audit", dsrd_admin_audit), .auth = DSR_AUTH_STAFF, .roles = AUDIT},
    {GET("/v1/admin/reports/compliance", dsrd_admin_report), .auth = DSR_AUTH_STAFF,
     .roles = AUDIT},
    /* the staff UI: session cookie, the same roles as the staff API */
    {GET("/static/ui.css", dsrd_ui_css)},
    {GET("/ui/login", dsrd_ui_login_page), .html = true},
    {POST("/ui/login", dsrd_ui_login), .form = dsrd_ui_login_form,
     .rate = DSR_RATE_LOGIN_ADDRESS, .html = true},
    {POST("/ui/logout", dsrd_ui_logout), .auth = DSR_AUTH_UI, .form = dsrd_page_empty_form,
     .roles = STAFF_ALL, .html = true},
    {GET("/ui", dsrd_ui_home), .html = true},
    {GET("/ui/", dsrd_ui_queue), .auth = DSR_AUTH_UI, .roles = STAFF_ALL, .html = true},
    {GET("/ui/queue.csv", dsrd_ui_queue_csv), .auth = DSR_AUTH_UI, .roles = STAFF_ALL,
     .html = true},
    {POST("/ui/bulk", dsrd_ui_bulk), .auth = DSR_AUTH_UI, .form = dsrd_ui_bulk_form,
     .roles = STAFF_ACTORS, .role_field = "action", .role_rules = bulk_action_roles,
     .html = true},
    {GET("/ui/requests/{id}", dsrd_ui_request), .auth = DSR_AUTH_UI, .roles = STAFF_ALL,
     .html = true},
    {GET("/ui/requests/{id}/plan", dsrd_ui_plan), .auth = DSR_AUTH_UI, .roles = STAFF_ALL,
     .html = true},
    {POST("/ui/requests/{id}/actions", dsrd_ui_act), .auth = DSR_AUTH_UI,
     .form = dsrd_ui_action_form, .roles = STAFF_ACTORS, .role_field = "action",
     .role_rules = dsrd_admin_action_roles, .html = true},
    {POST("/ui/requests/{id}/notes", dsrd_ui_note), .auth = DSR_AUTH_UI,
     .form = dsrd_ui_note_form, .roles = STAFF_ACTORS, .html = true},
    {GET("/ui/customers", dsrd_ui_customers), .auth = DSR_AUTH_UI, .roles = STAFF_ALL,
     .html = true},
    {POST("/ui/customers/rotate", dsrd_ui_rotate), .auth = DSR_AUTH_UI,
     .form = dsrd_ui_rotate_form, .roles = DSR_ROLE_ADMIN, .html = true},
    {POST("/ui/customers/add", dsrd_ui_customer_add), .auth = DSR_AUTH_UI,
     .form = dsrd_ui_customer_add_form, .roles = DSR_ROLE_ADMIN, .html = true},
    {GET("/ui/customers/{id}", dsrd_ui_customer), .auth = DSR_AUTH_UI, .roles = STAFF_ALL,
     .html = true},
    {POST("/ui/customers/{id}/endpoint", dsrd_ui_customer_change), .auth = DSR_AUTH_UI,
     .form = dsrd_ui_customer_endpoint_form, .roles = DSR_ROLE_ADMIN, .html = true},
    {POST("/ui/customers/{id}/status", dsrd_ui_customer_change), .auth = DSR_AUTH_UI,
     .form = dsrd_ui_customer_status_form, .roles = DSR_ROLE_ADMIN, .html = true},
    {POST("/ui/customers/{id}/replay", dsrd_ui_customer_change), .auth = DSR_AUTH_UI,
     .form = dsrd_ui_customer_replay_form, .roles = DSR_ROLE_ADMIN, .html = true},
    {GET("/ui/staff", dsrd_ui_staff), .auth = DSR_AUTH_UI, .roles = DSR_ROLE_ADMIN, .html = true},
    {POST("/ui/staff/invite", dsrd_ui_staff_invite), .auth = DSR_AUTH_UI,
     .form = dsrd_ui_staff_invite_form, .roles = DSR_ROLE_ADMIN, .html = true},
    {POST("/ui/staff/{id}/role", dsrd_ui_staff_change), .auth = DSR_AUTH_UI,
     .form = dsrd_ui_staff_role_form, .roles = DSR_ROLE_ADMIN, .html = true},
    {POST("/ui/staff/{id}/status", dsrd_ui_staff_change), .auth = DSR_AUTH_UI,
     .form = dsrd_ui_staff_status_form, .roles = DSR_ROLE_ADMIN, .html = true},
    {POST("/ui/staff/{id}/reset", dsrd_ui_staff_change), .auth = DSR_AUTH_UI,
     .form = dsrd_page_empty_form, .roles = DSR_ROLE_ADMIN, .html = true},
    {POST("/ui/staff/{id}/sessions", dsrd_ui_staff_change), .auth = DSR_AUTH_UI,
     .form = dsrd_ui_staff_sessions_form, .roles = DSR_ROLE_ADMIN, .html = true},
    /* a one-time set-password link (an invitation or a reset): the link is the proof */
    {GET("/ui/password/{token}", dsrd_ui_password_page), .html = true},
    {POST("/ui/password/{token}", dsrd_ui_password_set), .form = dsrd_ui_password_form,
     .rate = DSR_RATE_LOGIN_ADDRESS, .html = true},
    {GET("/ui/report", dsrd_ui_report), .auth = DSR_AUTH_UI, .roles = AUDIT, .html = true},
    {GET("/ui/report/view", dsrd_ui_report_view), .auth = DSR_AUTH_UI, .roles = AUDIT,
     .html = true},
    {GET("/ui/inbox", dsrd_ui_inbox), .auth = DSR_AUTH_UI, .roles = STAFF_ALL, .html = true},
    /* customers */
    {GET("/v1/customer/requests", dsrd_customer_parts_list), .auth = DSR_AUTH_CUSTOMER},
    {GET("/v1/customer/requests/{part_id}", dsrd_customer_part_get), .auth = DSR_AUTH_CUSTOMER},
    /* demo mode only (404 otherwise): dsrd as the demo customers' webhook endpoint */
    {POST("/demo/webhooks/{customer}", dsrd_demo_webhook), .body = dsrd_demo_webhook_spec},
    {POST("/v1/customer/requests/{part_id}/decision", dsrd_customer_decision),
     .auth = DSR_AUTH_CUSTOMER, .body = dsrd_customer_decision_spec},
    /* authorized agents: the Data Rights Protocol 1.0 ("/drp" is drp_base_path) */
    {POST("/drp/v1/agent/{agent-id}", dsrd_drp_pair), .drp = true, .text = true},
    {GET("/drp/v1/agent/{agent-id}", dsrd_drp_agent), .auth = DSR_AUTH_AGENT, .drp = true},
    {POST("/drp/v1/data-rights-request", dsrd_drp_exercise), .auth = DSR_AUTH_AGENT,
     .drp = true, .text = true},
    {GET("/drp/v1/data-rights-request/{id}", dsrd_drp_status), .auth = DSR_AUTH_AGENT,
     .drp = true},
    {DELETE("/drp/v1/data-rights-request/{id}", dsrd_drp_revoke), .auth = DSR_AUTH_AGENT,
     .drp = true, .text = true},
    {.method = NULL},
};

#undef GET
#undef POST
#undef DELETE
