/* A freeDiameter extension that answers every Credit-Control-Request (RFC 4006)
 * with a Result-Code given as its configuration ("2001" by default), echoing
 * CC-Request-Type and CC-Request-Number. Debian's extensions do not answer CCR,
 * so the tests build this one against libfreediameter-dev:
 *
 *   gcc -shared -fPIC -o ccr_answer.fdx ccr_answer.c -lfdcore -lfdproto
 *   LoadExtension = "ccr_answer.fdx" : "4012";
 */
#include <freeDiameter/extension.h>
#include <stdlib.h>

static struct disp_hdl *hdl = NULL;
static struct dict_object *d_app, *d_ccr, *d_type, *d_num, *d_rc;
static unsigned int result_code = 2001;

static int copy_avp(struct msg *from, struct msg *to, struct dict_object *d)
{
	struct avp *a = NULL, *n = NULL;
	struct avp_hdr *h = NULL;
	if (fd_msg_search_avp(from, d, &a) != 0 || a == NULL)
		return 0;
	CHECK_FCT(fd_msg_avp_hdr(a, &h));
	CHECK_FCT(fd_msg_avp_new(d, 0, &n));
	CHECK_FCT(fd_msg_avp_setvalue(n, h->avp_value));
	CHECK_FCT(fd_msg_avp_add(to, MSG_BRW_LAST_CHILD, n));
	return 0;
}

static int ccr_cb(struct msg **msg, struct avp *avp, struct session *sess, void *opaque,
		  enum disp_action *act)
{
	struct msg *qry = *msg, *ans;
	struct avp *a = NULL;
	union avp_value v;
	CHECK_FCT(fd_msg_new_answer_from_req(fd_g_config->cnf_dict, msg, 0));
	ans = *msg;
	CHECK_FCT(fd_msg_avp_new(d_rc, 0, &a));
	v.u32 = result_code;
	CHECK_FCT(fd_msg_avp_setvalue(a, &v));
	CHECK_FCT(fd_msg_avp_add(ans, MSG_BRW_LAST_CHILD, a));
	CHECK_FCT(fd_msg_add_origin(ans, 0));
	CHECK_FCT(copy_avp(qry, ans, d_type));
	CHECK_FCT(copy_avp(qry, ans, d_num));
	CHECK_FCT(fd_msg_send(msg, NULL, NULL));
	*act = DISP_ACT_CONT;
	return 0;
}

static int entry(char *conf)
{
	struct disp_when when;
	application_id_t dcca = 4;
	if (conf && *conf)
		result_code = (unsigned int)strtoul(conf, NULL, 10);
	CHECK_FCT(fd_dict_search(fd_g_config->cnf_dict, DICT_APPLICATION, APPLICATION_BY_ID, &dcca, &d_app, ENOENT));
	CHECK_FCT(fd_dict_search(fd_g_config->cnf_dict, DICT_COMMAND, CMD_BY_NAME, "Credit-Control-Request", &d_ccr, ENOENT));
	CHECK_FCT(fd_dict_search(fd_g_config->cnf_dict, DICT_AVP, AVP_BY_NAME, "CC-Request-Type", &d_type, ENOENT));
	CHECK_FCT(fd_dict_search(fd_g_config->cnf_dict, DICT_AVP, AVP_BY_NAME, "CC-Request-Number", &d_num, ENOENT));
	CHECK_FCT(fd_dict_search(fd_g_config->cnf_dict, DICT_AVP, AVP_BY_NAME, "Result-Code", &d_rc, ENOENT));
	memset(&when, 0, sizeof(when));
	when.app = d_app;
	when.command = d_ccr;
	CHECK_FCT(fd_disp_register(ccr_cb, DISP_HOW_CC, &when, NULL, &hdl));
	CHECK_FCT(fd_disp_app_support(d_app, NULL, 1, 0));
	return 0;
}

void fd_ext_fini(void)
{
	if (hdl)
		(void)fd_disp_unregister(&hdl, NULL);
}

EXTENSION_ENTRY("ccr_answer", entry);
