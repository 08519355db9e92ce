/* Views and downloads for the portal's counts (ckanext.yantai.tracking): a dataset page view,
 * and a click on a download link (class resource-url-analytics), posted to /_tracking with
 * CKAN's CSRF token. Nothing is sent for other pages; a failure is ignored (a count, not data). */
$(function () {
  var root = $('body').data('site-root') || '/';
  var field = $('meta[name=csrf_field_name]').attr('content');
  var token = field ? $('meta[name="' + field + '"]').attr('content') : null;

  function send(type, url) {
    var data = {type: type, url: url};
    if (field && token) { data[field] = token; }
    $.ajax({url: root.replace(/\/?$/, '/') + '_tracking', type: 'POST', data: data, timeout: 3000});
  }

  if (/\/dataset\/[^\/]+/.test(location.pathname) && !/\/(new|edit)(\/|$)/.test(location.pathname)) {
    send('page', location.pathname.replace(/\/*$/, ''));
  }
  $(document).on('click', 'a.resource-url-analytics', function () {
    send('resource', this.href);
  });
});
